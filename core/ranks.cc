#include "core/ranks.hh"

#include <cstdlib>
#include <stdexcept>
#include <string>

#ifdef SABRE_HAVE_MPI
#define OMPI_SKIP_MPICXX 1  // the C API only (no deprecated C++ bindings to link)
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace sabre::ranks {

#ifdef SABRE_HAVE_MPI

namespace {
bool g_init = false;
int g_rank = 0, g_size = 1, g_local_rank = 0, g_local_size = 1;

void check(int rc, const char* what) {
  if (rc != MPI_SUCCESS) throw std::runtime_error(std::string("MPI: ") + what + " failed");
}
}  // namespace

// Started by an MPI launcher (mpirun/mpiexec of Open MPI or MPICH, srun with PMI/PMIx)?
// Without one, MPI is not initialised at all: a plain `sabre ...` pays nothing for MPI.
static bool under_launcher() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(v)) return true;
  return false;
}

void init(int& argc, char**& argv) {
  if (!under_launcher()) return;
  int already = 0;
  MPI_Initialized(&already);
  if (already) return;
  int provided = 0;
  check(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  g_init = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  MPI_Comm local;
  check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, g_rank, MPI_INFO_NULL, &local),
        "MPI_Comm_split_type");
  MPI_Comm_rank(local, &g_local_rank);
  MPI_Comm_size(local, &g_local_size);
  MPI_Comm_free(&local);
}

void finalize() {
  if (!g_init) return;
  int done = 0;
  MPI_Finalized(&done);
  if (!done) MPI_Finalize();
  g_init = false;
}

bool built_with_mpi() { return true; }
int rank() { return g_rank; }
int size() { return g_size; }
int local_rank() { return g_local_rank; }
int local_size() { return g_local_size; }

void abort_all(int code) {
  if (g_init && g_size > 1) MPI_Abort(MPI_COMM_WORLD, code);
  std::exit(code);
}

void send_to_root(const std::vector<std::int64_t>& energy, const std::vector<double>& balance) {
  check(MPI_Send(energy.data(), int(energy.size()), MPI_INT64_T, 0, 1, MPI_COMM_WORLD), "MPI_Send");
  check(MPI_Send(balance.data(), int(balance.size()), MPI_DOUBLE, 0, 2, MPI_COMM_WORLD), "MPI_Send");
}

void receive_from(int r, std::vector<std::int64_t>& energy, std::vector<double>& balance) {
  check(MPI_Recv(energy.data(), int(energy.size()), MPI_INT64_T, r, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
        "MPI_Recv");
  check(MPI_Recv(balance.data(), int(balance.size()), MPI_DOUBLE, r, 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
        "MPI_Recv");
}

int broadcast(int value) {
  if (g_size > 1) check(MPI_Bcast(&value, 1, MPI_INT, 0, MPI_COMM_WORLD), "MPI_Bcast");
  return value;
}

std::vector<double> sum_all(const std::vector<double>& values) {
  std::vector<double> out(values);
  if (g_size > 1)
    check(MPI_Allreduce(values.data(), out.data(), int(values.size()), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD),
          "MPI_Allreduce");
  return out;
}

#else  // one rank

void init(int&, char**&) {}
void finalize() {}
bool built_with_mpi() { return false; }
int rank() { return 0; }
int size() { return 1; }
int local_rank() { return 0; }
int local_size() { return 1; }
void abort_all(int code) { std::exit(code); }
void send_to_root(const std::vector<std::int64_t>&, const std::vector<double>&) {
  throw std::logic_error("ranks::send_to_root without MPI");
}
void receive_from(int, std::vector<std::int64_t>&, std::vector<double>&) {
  throw std::logic_error("ranks::receive_from without MPI");
}
int broadcast(int value) { return value; }
std::vector<double> sum_all(const std::vector<double>& values) { return values; }

#endif

}  // namespace sabre::ranks
