// Readers of the raw NIST data (formats: ../shared/data/physics/README.md).
#include "physics/tables/raw_data.hh"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/errors.hh"
#include "core/number.hh"
#include "core/sha256.hh"

namespace sabre::phys::tables {
namespace fs = std::filesystem;
namespace {

std::string read_text(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw InputError(path, "no such file");
  std::ifstream f(path, std::ios::binary);
  if (!f) throw InputError(path, "cannot read file");
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// All numeric tokens of `text` (whitespace and commas separate tokens); non-numeric tokens
// are counted in *skipped.
std::vector<double> numbers(const std::string& text, int* skipped = nullptr) {
  std::vector<double> out;
  std::size_t i = 0;
  const std::size_t n = text.size();
  auto sep = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ','; };
  while (i < n) {
    while (i < n && sep(text[i])) ++i;
    if (i >= n) break;
    std::size_t j = i;
    while (j < n && !sep(text[j])) ++j;
    const std::string tok = text.substr(i, j - i);
    if (const auto v = parse_finite(tok))
      out.push_back(*v);
    else if (skipped)
      ++*skipped;
    i = j;
  }
  return out;
}

const char* kXcomFiles[kNumPhotonProcesses] = {
    "photon/xcom_compton.data",  // kIncoherent
    "photon/xcom_photo.data",    // kPhotoelectric
    "photon/xcom_pair.data",     // kPairNuclear
    "photon/xcom_triplet.data",  // kPairElectron
    "photon/xcom_rayleigh.data", // kRayleigh
};

}  // namespace

double XcomCurve::sigma_barn(double energy_mev) const {
  if (ln_e.empty()) return 0;
  const double x = std::log(energy_mev);
  if (x < ln_e.front()) return 0;
  // First point strictly above x: the segment [j-1, j] (above an edge at equal energies).
  auto it = std::upper_bound(ln_e.begin(), ln_e.end(), x);
  std::size_t j = static_cast<std::size_t>(it - ln_e.begin());
  if (j >= ln_e.size()) j = ln_e.size() - 1;
  if (j == 0) j = 1;
  if (ln_e.size() == 1) return std::exp(ln_sigma[0]);
  const std::size_t i = j - 1;
  const double dx = ln_e[j] - ln_e[i];
  const double f = dx > 0 ? (x - ln_e[i]) / dx : 1.0;
  return std::exp(ln_sigma[i] + f * (ln_sigma[j] - ln_sigma[i]));
}

void SeltzerBerger::chi_at(int z, double t, std::vector<double>& out) const {
  const std::size_t nt = t_mev.size();
  const std::vector<double>& c = chi[z];
  out.assign(kappa.size(), 0.0);
  std::size_t i = 0;
  double f = 0;
  if (t <= t_mev.front()) {
    i = 0;
    f = 0;
  } else if (t >= t_mev.back()) {
    i = nt - 2;
    f = 1;
  } else {
    i = static_cast<std::size_t>(std::upper_bound(t_mev.begin(), t_mev.end(), t) - t_mev.begin()) - 1;
    f = std::log(t / t_mev[i]) / std::log(t_mev[i + 1] / t_mev[i]);
  }
  for (std::size_t k = 0; k < kappa.size(); ++k)
    out[k] = c[k * nt + i] + f * (c[k * nt + i + 1] - c[k * nt + i]);
}

DensityFile read_density_file(const std::string& path) {
  const std::string text = read_text(path);
  DensityFile d;
  d.path = path;
  const auto nl = text.find('\n');
  if (nl == std::string::npos) throw InputError(path, "not a density file: no data after the name line");
  d.title = text.substr(0, nl);
  d.title.erase(0, d.title.find_first_not_of(" \t\r"));
  d.title.erase(d.title.find_last_not_of(" \t\r") + 1);
  const auto v = numbers(text.substr(nl + 1));
  if (v.size() < 4) throw InputError(path, "not a density file: header line missing");
  const int n = static_cast<int>(v[0]);
  d.i_ev = v[1];
  d.density_g_cm3 = v[2];
  const int ne = static_cast<int>(v[3]);
  if (n < 2 || ne < 1 || ne > kMaxZ || !(d.i_ev > 0) || !(d.density_g_cm3 > 0))
    throw InputError(path, "bad header (count, I-value, density, number of elements)");
  const std::size_t want = 4 + 2 * static_cast<std::size_t>(ne) + 2 * static_cast<std::size_t>(n);
  if (v.size() != want)
    throw InputError(path, "expected " + std::to_string(want) + " numbers, found " +
                               std::to_string(v.size()));
  std::size_t k = 4;
  for (int e = 0; e < ne; ++e, k += 2) {
    const int z = static_cast<int>(v[k]);
    if (z < 1 || z > kMaxZ || v[k] != z || !(v[k + 1] >= 0))
      throw InputError(path, "bad element entry (Z " + std::to_string(v[k]) + ")");
    d.mass_fractions.emplace_back(z, v[k + 1]);
  }
  for (int p = 0; p < n; ++p, k += 2) {
    d.t_mev.push_back(v[k]);
    d.delta.push_back(v[k + 1]);
    if (p > 0 && !(d.t_mev[p] > d.t_mev[p - 1]))
      throw InputError(path, "density-effect energies are not increasing");
  }
  return d;
}

RawData::RawData(const std::string& source_dir) : dir_(source_dir) {
  std::error_code ec;
  if (!fs::is_directory(dir_, ec))
    throw InputError(dir_, "physics source directory not found");
  for (int p = 0; p < kNumPhotonProcesses; ++p) {
    const std::string rel = kXcomFiles[p];
    const std::string path = (fs::path(dir_) / rel).string();
    const auto v = numbers(read_text(path));
    std::size_t k = 0;
    for (int z = 1; z <= kMaxZ; ++z) {
      if (k >= v.size())
        throw InputError(path, "data ends before element Z = " + std::to_string(z));
      const double cnt = v[k++];
      const auto n = static_cast<std::size_t>(cnt);
      if (cnt < 0 || cnt != static_cast<double>(n) || k + 2 * n > v.size())
        throw InputError(path, "bad point count for element Z = " + std::to_string(z));
      XcomCurve& c = xcom_[p][z];
      for (std::size_t i = 0; i < n; ++i, k += 2) {
        c.ln_e.push_back(v[k]);
        c.ln_sigma.push_back(v[k + 1]);
        // Two edges in the files (Re and Ac photoelectric) list the energy after the edge
        // 3e-4 below the one before it (rounding of ln E to 5 decimals): read them as one
        // edge energy. A larger decrease is an error.
        if (i > 0 && c.ln_e[i] < c.ln_e[i - 1]) {
          if (c.ln_e[i - 1] - c.ln_e[i] > 1e-3)
            throw InputError(path, "energies decrease for element Z = " + std::to_string(z));
          c.ln_e[i] = c.ln_e[i - 1];
        }
      }
    }
    if (k != v.size()) throw InputError(path, "unexpected data after element Z = 100");
    record(rel);
  }
  {
    const std::string rel = "electron/nist_brems.data";
    const std::string path = (fs::path(dir_) / rel).string();
    const std::string text = read_text(path);
    const auto nl = text.find('\n');
    int skipped = 0;
    const auto v = numbers(nl == std::string::npos ? "" : text.substr(nl + 1), &skipped);
    if (v.size() < 2) throw InputError(path, "not a Seltzer-Berger file: no grid sizes");
    const auto nt = static_cast<std::size_t>(v[0]);
    const auto nk = static_cast<std::size_t>(v[1]);
    const std::size_t want = 2 + nt + nk + static_cast<std::size_t>(kMaxZ) * nt * nk;
    if (nt < 2 || nk < 2 || v.size() != want)
      throw InputError(path, "expected " + std::to_string(want) + " numbers, found " +
                                 std::to_string(v.size()));
    sb_.t_mev.assign(v.begin() + 2, v.begin() + 2 + static_cast<long>(nt));
    sb_.kappa.assign(v.begin() + 2 + static_cast<long>(nt),
                     v.begin() + 2 + static_cast<long>(nt + nk));
    std::size_t k = 2 + nt + nk;
    for (int z = 1; z <= kMaxZ; ++z, k += nt * nk)
      sb_.chi[z].assign(v.begin() + static_cast<long>(k), v.begin() + static_cast<long>(k + nt * nk));
    record(rel);
  }
}

bool RawData::has_density(const std::string& kind, const std::string& stem) const {
  std::error_code ec;
  return fs::is_regular_file(fs::path(dir_) / "electron" / "density" / kind / (stem + ".density"), ec);
}

DensityFile RawData::density(const std::string& kind, const std::string& stem) {
  const std::string rel = "electron/density/" + kind + "/" + stem + ".density";
  DensityFile d = read_density_file((fs::path(dir_) / rel).string());
  record(rel);
  return d;
}

void RawData::record(const std::string& rel) {
  for (const auto& s : used_)
    if (s.path == rel) return;
  used_.push_back({rel, sha256_file((fs::path(dir_) / rel).string())});
}

std::vector<SourceFile> RawData::sources() const {
  auto s = used_;
  std::sort(s.begin(), s.end(), [](const SourceFile& a, const SourceFile& b) { return a.path < b.path; });
  return s;
}

}  // namespace sabre::phys::tables
