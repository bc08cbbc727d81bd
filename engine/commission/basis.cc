#include "engine/commission/basis.hh"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "beams/plan_builder.hh"
#include "core/build_info.hh"
#include "core/errors.hh"
#include "core/h5.hh"
#include "core/log.hh"
#include "core/output_file.hh"
#include "core/sha256.hh"

namespace sabre::commission {
namespace fs = std::filesystem;
using nlohmann::json;

std::string beam_model_json(const beams::BeamModel& b) {
  json j{{"name", b.name},
         {"energy_mv", b.energy_mv},
         {"fff", b.fff},
         {"primary", {b.primary.sigma_x_cm, b.primary.sigma_y_cm, b.primary.tail_weight, b.primary.tail_sigma_cm}},
         {"extrafocal", {b.extrafocal.weight, b.extrafocal.z_cm, b.extrafocal.sigma_cm, b.extrafocal.energy_scale}},
         {"electron", {b.electron.weight, b.electron.mean_energy_mev, b.electron.radius_cm}},
         {"spectrum_energies_mev", b.spectrum_energies_mev},
         {"spectrum_weights", b.spectrum_weights},
         {"softening_per_cm", b.softening_per_cm},
         {"fluence_r_cm", b.fluence_r_cm},
         {"fluence_rel", b.fluence_rel},
         {"backscatter", {b.calibration.backscatter_kx, b.calibration.backscatter_ky, b.calibration.field_cm}}};
  return j.dump();
}

namespace {

// The water-run grid a set-up's measurements need (docs/commissioning.md).
GridSpec grid_for(const Setup& s, const io::BeamData& d, const std::vector<int>& curves,
                  const std::vector<int>& ofs) {
  const double f = std::max(s.field_x_cm, s.field_y_cm);
  bool profiles = false, pdd = false;
  double max_pos = 0, max_depth = 0;
  for (int i : curves) {
    const auto& c = d.curves[std::size_t(i)];
    if (c.kind == io::CurveKind::profile) {
      profiles = true;
      max_pos = std::max({max_pos, std::abs(c.position_cm.front()), std::abs(c.position_cm.back())});
      max_depth = std::max(max_depth, c.depth_cm);
    } else {
      pdd = true;
      max_depth = std::max(max_depth, c.position_cm.back());
    }
  }
  for (int i : ofs) max_depth = std::max(max_depth, d.output_factors[std::size_t(i)].depth_cm);
  GridSpec g;
  // Profiles need fine voxels across; without them one voxel holds the axis region
  // (axis_region_cm) exactly.
  if (profiles) g.lateral_voxel_cm = f <= 2 ? 0.1 : f <= 6 ? 0.2 : 0.25;
  else g.lateral_voxel_cm = 2 * axis_region_cm(s.field_x_cm, s.field_y_cm);
  g.half_width_cm = std::clamp(std::max(max_pos + 1.0, 0.65 * f + 3.0), 5.0, 30.0);
  g.depth_voxel_cm = pdd ? 0.25 : 0.5;
  g.depth_cm = std::clamp(max_depth + 3.0, 10.0, 40.0);
  return g;
}

}  // namespace

BasisBank::BasisBank(const beams::Machine& m, const std::string& machine_file, const io::BeamData& data,
                     WaterRunner& runner, std::string cache_dir, std::function<void(const std::string&)> log)
    : machine_(m), machine_sha_(sha256_file(machine_file)), data_(data), runner_(runner),
      cache_dir_(std::move(cache_dir)), log_(std::move(log)) {
  std::map<Setup, SetupData> by;
  for (std::size_t i = 0; i < data_.curves.size(); ++i) {
    const auto& c = data_.curves[i];
    Setup s{c.field_x_cm, c.field_y_cm, c.ssd_cm};
    by[s].setup = s;
    by[s].curves.push_back(int(i));
    by[s].n_points += int(c.position_cm.size());
  }
  for (std::size_t i = 0; i < data_.output_factors.size(); ++i) {
    const auto& o = data_.output_factors[i];
    Setup s{o.field_x_cm, o.field_y_cm, o.ssd_cm};
    by[s].setup = s;
    by[s].output_factors.push_back(int(i));
    by[s].n_points += 1;
  }
  for (auto& [s, sd] : by) {
    // The file (and curve) a set-up came from first, for the messages.
    const std::string where = !sd.curves.empty() ? data_.curves[std::size_t(sd.curves.front())].source
                                                 : data_.output_factors[std::size_t(sd.output_factors.front())].source;
    if (s.field_x_cm > m.max_field_cm + 1e-9 || s.field_y_cm > m.max_field_cm + 1e-9)
      throw InputError(where, "a field of " + std::to_string(s.field_x_cm) + " x " +
                                            std::to_string(s.field_y_cm) + " cm is larger than machine " + m.name +
                                            "'s largest (" + std::to_string(m.max_field_cm) + " cm)");
    if (!(s.ssd_cm > 0) || s.ssd_cm > m.sad_cm + 50)
      throw InputError(where, "SSD " + std::to_string(s.ssd_cm) + " cm is not a water-tank set-up of a " +
                                            std::to_string(m.sad_cm) + " cm SAD machine");
    sd.grid = grid_for(s, data_, sd.curves, sd.output_factors);
    setups_.push_back(sd);
  }
}

std::vector<double> BasisBank::measured(const SetupData& s) const {
  std::vector<double> y;
  for (int i : s.curves) {
    const auto& c = data_.curves[std::size_t(i)];
    y.insert(y.end(), c.value.begin(), c.value.end());
  }
  for (int i : s.output_factors) y.push_back(data_.output_factors[std::size_t(i)].value);
  return y;
}

std::vector<double> BasisBank::measured_sigma(const SetupData& s, double stated) const {
  std::vector<double> r;
  for (int i : s.curves) {
    const auto& c = data_.curves[std::size_t(i)];
    for (std::size_t k = 0; k < c.value.size(); ++k)
      r.push_back(k < c.sigma_rel.size() && c.sigma_rel[k] > 0 ? c.sigma_rel[k] : stated);
  }
  for (int i : s.output_factors) {
    const double v = data_.output_factors[std::size_t(i)].sigma_rel;
    r.push_back(v > 0 ? v : stated);
  }
  return r;
}

std::vector<int> BasisBank::point_owner(const SetupData& s) const {
  std::vector<int> o;
  for (int i : s.curves) o.insert(o.end(), data_.curves[std::size_t(i)].position_cm.size(), i);
  for (int i : s.output_factors) o.push_back(-1 - i);
  return o;
}

Computed BasisBank::compute(const beams::BeamModel& beam, const SetupData& s, const PartSpec& part,
                            std::int64_t histories, std::uint64_t seed) {
  return run_or_load(beam, s, &part, histories, seed);
}

Computed BasisBank::compute_full(const beams::BeamModel& beam, const SetupData& s, std::int64_t histories,
                                 std::uint64_t seed) {
  return run_or_load(beam, s, nullptr, histories, seed);
}

Computed BasisBank::run_or_load(const beams::BeamModel& beam, const SetupData& s, const PartSpec* part,
                                std::int64_t histories, std::uint64_t seed) {
  json points = json::array();
  for (int i : s.curves) {
    const auto& c = data_.curves[std::size_t(i)];
    points.push_back({int(c.kind), int(c.axis), c.depth_cm, c.detector, c.position_cm});
  }
  for (int i : s.output_factors) {
    const auto& o = data_.output_factors[std::size_t(i)];
    points.push_back({"of", o.depth_cm, o.detector});
  }
  // The transport identity, not the commit: a commit that leaves the transport and the
  // scoring alone (the fit's arithmetic, the report, the CLI) reuses the cached runs.
  const json key{{"sabre_version", build::version()},
                 {"sabre_transport", build::transport_id()},
                 {"machine_sha256", machine_sha_},
                 {"beam", json::parse(beam_model_json(beam))},
                 {"part", part ? json{int(part->part), part->e_lo_mev, part->e_hi_mev, part->knot, part->spectrum_weights}
                               : json("full")},
                 {"setup", {s.setup.field_x_cm, s.setup.field_y_cm, s.setup.ssd_cm}},
                 {"grid", {s.grid.half_width_cm, s.grid.lateral_voxel_cm, s.grid.depth_cm, s.grid.depth_voxel_cm}},
                 {"points_sha256", sha256_hex(points.dump())},
                 {"histories", histories},
                 {"seed", seed},
                 {"tables_sha256", runner_.tables_sha256()}};
  const std::string k = sha256_hex(key.dump());
  const std::string file = cache_dir_.empty() ? "" : cache_dir_ + "/" + k + ".h5";
  Computed out;
  if (!file.empty() && fs::exists(file)) {
    try {
      const auto f = h5::File::open(file);
      if (f.root().attr_string("key") == key.dump()) {
        f.root().read("value", out.value);
        f.root().read("sigma", out.sigma);
        if (int(out.value.size()) == s.n_points && out.sigma.size() == out.value.size()) {
          ++hits_;
          return out;
        }
      }
    } catch (const std::exception&) {
      // unreadable: recompute
    }
    out = Computed{};
  }
  const auto t0 = std::chrono::steady_clock::now();
  const beams::Plan plan = beams::reference_field_plan(machine_, beam, s.setup.field_x_cm, s.setup.field_y_cm,
                                                       {0, 0, 0}, 100);
  WaterDose d;
  if (part) {
    const PartSource src(machine_, beam, plan, *part);
    d = runner_.run(s.setup, s.grid, src.view(), histories, seed);
  } else {
    const beams::PlanSource src(machine_, beam, plan);
    d = runner_.run(s.setup, s.grid, src.view(), histories, seed);
  }
  for (int i : s.curves) {
    const auto v = computed_curve(data_.curves[std::size_t(i)], d);
    out.value.insert(out.value.end(), v.value.begin(), v.value.end());
    out.sigma.insert(out.sigma.end(), v.sigma.begin(), v.sigma.end());
  }
  for (int i : s.output_factors) {
    const auto& o = data_.output_factors[std::size_t(i)];
    double sg = 0;
    const double half = std::max(detector_radius_cm(o.detector), axis_region_cm(o.field_x_cm, o.field_y_cm));
    out.value.push_back(smoothed_axis(d, o.depth_cm, half, &sg));
    const auto bs =
        batch_sigma(d, [&](const WaterDose& one) { return std::vector<double>{smoothed_axis(one, o.depth_cm, half)}; });
    out.sigma.push_back(bs.empty() ? sg : bs.front());
  }
  seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ++runs_;
  if (!file.empty()) {
    try {
      fs::create_directories(cache_dir_);
      OutputFile of(file);
      {
        auto f = h5::File::create(of.temp_path());
        f.root().set_attr("key", key.dump());
        f.root().write("value", out.value, {hsize_t(out.value.size())});
        f.root().write("sigma", out.sigma, {hsize_t(out.sigma.size())});
        f.close();
      }
      of.commit();
    } catch (const std::exception& e) {
      if (log_) log_(std::string("basis cache not written: ") + e.what());
    }
  }
  return out;
}

}  // namespace sabre::commission
