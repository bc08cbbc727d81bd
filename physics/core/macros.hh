// One macro marks functions that run on host and device. Physics lives in headers that
// both g++ and nvcc compile; SABRE_HD expands to __host__ __device__ under nvcc only.
#pragma once

#if defined(__CUDACC__)
#define SABRE_HD __host__ __device__
#define SABRE_HD_INLINE __host__ __device__ __forceinline__
#define SABRE_DEVICE_CODE 1
#else
#define SABRE_HD
#define SABRE_HD_INLINE inline
#endif

// True while compiling device code (the device pass of nvcc).
#if defined(__CUDA_ARCH__)
#define SABRE_ON_DEVICE 1
#else
#define SABRE_ON_DEVICE 0
#endif
