// MPI ranks (issue 22): one job across processes, GPUs and nodes with `mpirun -n R sabre ...`.
//
// sabre is built with MPI when CMake finds it (SABRE_MPI=AUTO, the default; OFF to leave it
// out). Without MPI, or when not started by mpirun, there is one rank and every function
// here is a no-op. With R > 1 ranks, engine/simulation.cc hands the batches out in rounds
// (rank r runs batch b0 + r of each round), rank 0 folds them in batch order into the one
// tally (engine/tally.hh), evaluates the stopping rules after each batch exactly as a single
// process does, and broadcasts the verdict; only rank 0 writes outputs. The result is the
// single-process result bit for bit, whatever R.
//
// This header does not include mpi.h: the MPI calls live in core/ranks.cc only.
#pragma once

#include <cstdint>
#include <vector>

namespace sabre::ranks {

// MPI_Init_thread (funneled: only the main thread calls MPI) when built with MPI and started
// by an MPI launcher (Open MPI's or MPICH's mpirun, srun with PMI/PMIx: their environment
// variables); a no-op otherwise, so a plain `sabre ...` is a single rank without MPI.
void init(int& argc, char**& argv);
void finalize();      // MPI_Finalize when initialised
bool built_with_mpi();
int rank();           // 0 .. size() - 1
int size();           // 1 without MPI
int local_rank();     // rank among the ranks of this node (for choosing a GPU)
int local_size();

// Ends every rank with `code` (MPI_Abort); std::exit(code) with one rank.
[[noreturn]] void abort_all(int code);

// Point to point, rank r > 0 to rank 0: one batch's per-voxel fixed-point energies and its
// energy-balance figures.
void send_to_root(const std::vector<std::int64_t>& energy, const std::vector<double>& balance);
void receive_from(int r, std::vector<std::int64_t>& energy, std::vector<double>& balance);

// Rank 0's value on every rank.
int broadcast(int value);
// Element-wise sum of `values` over the ranks, on every rank.
std::vector<double> sum_all(const std::vector<double>& values);

}  // namespace sabre::ranks
