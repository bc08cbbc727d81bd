#include "engine/compare/compare.hh"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/compare/gamma_output.hh"
#include "core/errors.hh"
#include "core/log.hh"
#include "core/output_file.hh"
#include "engine/io/dose_hdf5.hh"
#include "engine/io/rtdose.hh"

namespace sabre::compare {

namespace {

enum class Kind { hdf5, dicom, other };

Kind sniff(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw InputError(path, "no such file");
  if (!std::filesystem::is_regular_file(path, ec)) throw InputError(path, "not a regular file");
  std::ifstream f(path, std::ios::binary);
  if (!f) throw InputError(path, "cannot open the file for reading");
  char head[132] = {};
  f.read(head, sizeof head);
  const auto n = f.gcount();
  static const char kHdf5[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};
  if (n >= 8 && std::memcmp(head, kHdf5, 8) == 0) return Kind::hdf5;
  if (n >= 132 && std::memcmp(head + 128, "DICM", 4) == 0) return Kind::dicom;
  return Kind::other;
}

bool overlaps(const phys::GridGeometry& a, const phys::GridGeometry& b) {
  const auto au = a.upper_cm(), bu = b.upper_cm();
  return a.origin_cm.x < bu.x && b.origin_cm.x < au.x && a.origin_cm.y < bu.y &&
         b.origin_cm.y < au.y && a.origin_cm.z < bu.z && b.origin_cm.z < au.z;
}

std::string fmt_percent(double v) {
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(2);
  s << v;
  return s.str();
}

}  // namespace

LoadedDose load_dose_file(const std::string& path) {
  LoadedDose out;
  switch (sniff(path)) {
    case Kind::hdf5:
      out.dose = io::read_dose_hdf5(path);
      out.format = "sabre-hdf5";
      break;
    case Kind::dicom: {
      auto rd = io::read_rtdose(path);
      if (rd.dose.dose_unit != "Gy")
        throw InputError(path, "DoseUnits is not GY (relative dose): only doses in Gy can be compared");
      out.dose = std::move(rd.dose);
      out.format = "dicom-rtdose";
      break;
    }
    case Kind::other:
      throw InputError(path, "neither a DICOM RT Dose nor a sabre HDF5 dose file");
  }
  if (!out.dose.edges.uniform())
    throw InputError(path, "the dose grid has non-uniform voxel boundaries: comparison and gamma need a uniform "
                           "grid (score the dose on a uniform grid to compare it)");
  const auto& d = out.dose.dose_gy;
  for (std::size_t v = 0; v < d.size(); ++v)
    if (!std::isfinite(d[v]) || d[v] < 0)
      throw InputError(path, "dose at voxel " + std::to_string(v) + " is " + std::to_string(d[v]) +
                                 " Gy (negative or not finite)");
  return out;
}

CompareReport run_compare(const CompareInputs& in) {
  std::vector<std::string> outputs;
  if (!in.output_h5.empty()) outputs.push_back(in.output_h5);
  if (!in.output_png.empty()) outputs.push_back(in.output_png);
  check_output_paths(outputs);

  CompareReport rep;
  rep.inputs = in;
  auto ref = load_dose_file(in.reference_path);
  auto ev = load_dose_file(in.evaluated_path);
  rep.reference_format = ref.format;
  rep.evaluated_format = ev.format;
  if (ref.dose.dose_unit != ev.dose.dose_unit)
    throw InputError(in.evaluated_path, "dose unit '" + ev.dose.dose_unit +
                                            "' differs from the reference's '" +
                                            ref.dose.dose_unit + "'");
  rep.dose_unit = ref.dose.dose_unit;
  if (!overlaps(ref.dose.grid, ev.dose.grid))
    throw InputError(in.evaluated_path,
                     "its dose grid does not overlap the reference dose grid (another frame "
                     "of reference?)");
  const auto fr = ref.dose.provenance.find("frame_of_reference_uid");
  const auto fe = ev.dose.provenance.find("frame_of_reference_uid");
  if (fr != ref.dose.provenance.end() && fe != ev.dose.provenance.end() && !fr->second.empty() &&
      !fe->second.empty() && fr->second != fe->second)
    spdlog::warn("compare: frames of reference differ ({} vs {}); comparing in patient "
                 "coordinates as stored",
                 fr->second, fe->second);
  double ref_max = 0;
  for (double d : ref.dose.dose_gy) ref_max = std::max(ref_max, d);
  if (!(ref_max > 0)) throw InputError(in.reference_path, "the dose is zero everywhere: nothing to compare");

  spdlog::info("compare: reference {} ({}x{}x{}), evaluated {} ({}x{}x{})", in.reference_path,
               ref.dose.grid.nx, ref.dose.grid.ny, ref.dose.grid.nz, in.evaluated_path,
               ev.dose.grid.nx, ev.dose.grid.ny, ev.dose.grid.nz);
  rep.gamma = compute_gamma(ref.dose, ev.dose, in.criteria);
  spdlog::info("compare: {} points in {:.2f} s on {} threads", rep.gamma.evaluated,
               rep.gamma.seconds, rep.gamma.threads);
  if (!in.output_h5.empty())
    write_gamma_hdf5(in.output_h5, rep.gamma, in.reference_path, in.evaluated_path);
  if (!in.output_png.empty()) {
    write_gamma_png(in.output_png, rep.gamma, ref.dose);
    rep.png_slice = gamma_png_slice(rep.gamma);
  }
  return rep;
}

nlohmann::json report_json(const CompareReport& r) {
  const auto& g = r.gamma;
  const auto& c = g.criteria;
  const auto& d = g.difference;
  nlohmann::json j;
  j["reference"] = {{"file", r.inputs.reference_path}, {"format", r.reference_format}};
  j["evaluated"] = {{"file", r.inputs.evaluated_path}, {"format", r.evaluated_format}};
  j["dose_unit"] = r.dose_unit;
  j["criteria"] = {{"dose_percent", 100 * c.dose_fraction},
                   {"distance_mm", c.distance_mm},
                   {"normalisation", c.local ? "local" : "global"},
                   {"threshold_percent", 100 * c.threshold_fraction},
                   {"threshold_gy", g.threshold_gy},
                   {"norm_dose_gy", g.norm_dose_gy},
                   {"max_search_mm", g.max_search_mm}};
  auto finite_or_null = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); };
  j["gamma"] = {{"pass_rate_percent", g.pass_rate_percent},
                {"evaluated_voxels", g.evaluated},
                {"passed_voxels", g.passed},
                {"no_evaluated_dose_voxels", g.outside_evaluated_grid},
                {"mean", g.mean_gamma},
                {"max", g.max_gamma},
                {"p95", finite_or_null(g.gamma_p95)},
                {"seconds", g.seconds},
                {"threads", g.threads}};
  nlohmann::json within = nlohmann::json::object();
  for (std::size_t l = 0; l < d.within_levels_percent.size(); ++l) {
    std::ostringstream key;
    key << d.within_levels_percent[l];
    within[key.str()] = d.within_percent[l];
  }
  j["dose_difference"] = {{"voxels", d.voxels},
                          {"mean_gy", d.mean_gy},
                          {"sd_gy", d.sd_gy},
                          {"min_gy", d.min_gy},
                          {"max_gy", d.max_gy},
                          {"mean_abs_percent", d.mean_abs_percent},
                          {"within_percent", within}};
  j["reference_max_gy"] = g.reference_max_gy;
  j["outputs"] = {{"h5", r.inputs.output_h5.empty() ? nlohmann::json() : nlohmann::json(r.inputs.output_h5)},
                  {"png", r.inputs.output_png.empty() ? nlohmann::json() : nlohmann::json(r.inputs.output_png)}};
  if (r.png_slice >= 0) j["outputs"]["png_slice_k"] = r.png_slice;
  return j;
}

std::string report_text(const CompareReport& r) {
  const auto& g = r.gamma;
  const auto& c = g.criteria;
  const auto& d = g.difference;
  std::ostringstream s;
  s << "gamma " << 100 * c.dose_fraction << " %/" << c.distance_mm << " mm "
    << (c.local ? "local" : "global") << ", threshold " << 100 * c.threshold_fraction
    << " % (" << g.threshold_gy << " Gy), normalisation " << g.norm_dose_gy
    << " Gy, max search " << g.max_search_mm << " mm\n";
  s << "pass rate: " << fmt_percent(g.pass_rate_percent) << " % (" << g.passed << " of "
    << g.evaluated << " voxels)\n";
  s << "gamma mean " << g.mean_gamma << ", max " << g.max_gamma << ", 95th percentile "
    << g.gamma_p95 << "\n";
  if (g.outside_evaluated_grid > 0)
    s << "voxels with no evaluated dose within the search radius: " << g.outside_evaluated_grid
      << " (counted as failing)\n";
  s << "dose difference (evaluated - reference) over " << d.voxels << " voxels: mean "
    << d.mean_gy << " Gy, SD " << d.sd_gy << " Gy, min " << d.min_gy << " Gy, max " << d.max_gy
    << " Gy, mean |diff| " << fmt_percent(d.mean_abs_percent) << " %\n";
  s << "within:";
  for (std::size_t l = 0; l < d.within_levels_percent.size(); ++l)
    s << (l ? "," : "") << " +/-" << d.within_levels_percent[l] << " %: "
      << fmt_percent(d.within_percent[l]) << " %";
  s << " (of " << g.norm_dose_gy << " Gy)\n";
  return s.str();
}

}  // namespace sabre::compare
