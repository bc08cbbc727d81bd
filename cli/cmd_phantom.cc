// sabre phantom: writes a generated phantom as a DICOM CT series plus an RT Structure Set.
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/registry.hh"
#include "core/errors.hh"
#include "core/log.hh"
#include "engine/phantom_generator.hh"

namespace sabre::cli {
namespace {

struct PhantomOptions {
  PhantomSpec spec;
  std::string slabs;
  std::vector<double> size_mm;
  std::string output;
  bool force = false;
  bool random_uids = false;
};

void run_phantom(PhantomOptions& opt) {
  namespace fs = std::filesystem;
  if (!opt.slabs.empty()) opt.spec.slabs = parse_slabs(opt.slabs);
  if (!opt.size_mm.empty()) {
    if (opt.size_mm.size() != 3) throw UsageError("--size takes three values: X Y Z (mm)");
    opt.spec.size_mm = {opt.size_mm[0], opt.size_mm[1], opt.size_mm[2]};
  }
  const fs::path out = fs::absolute(opt.output).lexically_normal();
  std::error_code ec;
  if (fs::exists(out, ec) && !(fs::is_directory(out, ec) && fs::is_empty(out, ec)) && !opt.force)
    throw UsageError(out.string() + " exists and is not an empty directory (use --force to replace it)");
  if (!fs::is_directory(out.parent_path(), ec))
    throw RuntimeError(out.string() + ": the parent directory does not exist");

  auto phantom = generate_phantom(opt.spec);
  // Everything is written into a temporary directory beside the target, renamed on success.
  const fs::path tmp = out.parent_path() / ("." + out.filename().string() + ".tmp-" + std::to_string(::getpid()));
  fs::remove_all(tmp, ec);
  try {
    std::string seed;
    if (!opt.random_uids) {
      const auto& s = opt.spec;
      seed = s.kind + "|" + std::to_string(s.size_mm[0]) + "," + std::to_string(s.size_mm[1]) + "," +
             std::to_string(s.size_mm[2]) + "|" + std::to_string(s.spacing_mm) + "|" +
             std::to_string(s.slice_mm) + "|" + std::to_string(s.margin_mm) + "|" + s.position +
             "|" + opt.slabs;
    }
    write_generated_phantom(tmp.string(), phantom, seed);
    if (fs::exists(out, ec)) {
      const fs::path old = out.parent_path() / ("." + out.filename().string() + ".old-" + std::to_string(::getpid()));
      fs::rename(out, old);
      fs::rename(tmp, out);
      fs::remove_all(old, ec);
    } else {
      fs::rename(tmp, out);
    }
  } catch (const RuntimeError& e) {
    // messages name the target directory, not the staging one
    fs::remove_all(tmp, ec);
    std::string m = e.what();
    for (auto at = m.find(tmp.string()); at != std::string::npos; at = m.find(tmp.string()))
      m.replace(at, tmp.string().size(), out.string());
    throw RuntimeError(m);
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  const auto& g = phantom.ct.grid;
  spdlog::info("phantom {}: {} x {} x {} voxels of {} x {} x {} mm, {} ROIs, {}", opt.spec.kind, g.nx,
               g.ny, g.nz, g.spacing_cm.x * 10, g.spacing_cm.y * 10, g.spacing_cm.z * 10,
               phantom.structures.rois.size(), opt.spec.position);
  std::cout << out.string() << "\n";
}

const bool registered = register_command(
    "phantom", "Write a generated phantom (water box, water cylinder, slabs, thorax) as a DICOM CT series + RT Structure Set",
    [](CLI::App& sub) {
      auto opt = std::make_shared<PhantomOptions>();
      sub.add_option("kind", opt->spec.kind, "water, cylinder, slabs or thorax")->required()
          ->check(CLI::IsMember({"water", "cylinder", "slabs", "thorax"}));
      sub.add_option("-o,--output", opt->output, "Output directory (created; must not exist or be empty)")
          ->required();
      sub.add_option("--size", opt->size_mm, "Object size X Y Z in mm (0 = the kind's default)")
          ->expected(3);
      sub.add_option("--spacing", opt->spec.spacing_mm, "In-plane voxel size in mm (default 2.5)");
      sub.add_option("--slice", opt->spec.slice_mm, "Slice spacing in mm (default 2.5)");
      sub.add_option("--margin", opt->spec.margin_mm, "Air around the object in x and y, mm (default 10)");
      sub.add_option("--position", opt->spec.position, "Patient position: HFS, HFP, FFS or FFP (default HFS)")
          ->check(CLI::IsMember({"HFS", "HFP", "FFS", "FFP"}));
      sub.add_option("--slabs", opt->slabs,
                     "For slabs: MATERIAL:MM,... from anterior to posterior (air, lung, adipose, "
                     "water, muscle, bone, HU<value>)");
      sub.add_flag("--force", opt->force, "Replace an existing output directory");
      sub.add_flag("--random-uids", opt->random_uids,
                   "New random UIDs (default: UIDs derived from the options, reproducible)");
      sub.callback([opt] { run_phantom(*opt); });
    });

}  // namespace
}  // namespace sabre::cli
