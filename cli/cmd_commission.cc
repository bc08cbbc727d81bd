// sabre commission MACHINE.toml --beam NAME --measured FILE... -o NEW.toml --report DIR:
// fits a machine file's beam model to measured water-tank data (engine/commission,
// docs/commissioning.md) and writes the commissioned machine file and a report.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/options.hh"
#include "cli/registry.hh"
#include "core/errors.hh"
#include "core/interrupt.hh"
#include "core/log.hh"
#include "core/output_file.hh"
#include "engine/commission/commission.hh"
#include "engine/device_spec.hh"
#include "engine/plan_dose.hh"
#include "engine/run_config.hh"

namespace sabre::cli {
namespace {

struct CommissionCli {
  std::string machine, beam = "6X-FFF", output, report, tables, device = "auto", stages = "spectrum,fluence,spot,backscatter";
  std::vector<std::string> measured;
  std::int64_t histories = 20000000, mlc_histories = 4000000, report_histories = 0;
  std::int64_t seed = 1;
  int rounds = 2;
  std::string uncertainty = "0.5%";
  double dlg_mm = -1;
  std::string transmission;
  std::string cache_dir;
  bool no_cache = false, json_out = false, separate_spectrum = false;
  std::string data_label;
  std::string data_basis = "measured";
  std::string forward;
};

void run(const CommissionCli& o) {
  commission::Options opt;
  opt.machine_file = machine_file(o.machine);
  opt.beam = o.beam;
  opt.measured = o.measured;
  opt.output = o.output;
  opt.report_dir = o.report;
  opt.tables_path = o.tables;
  opt.device = parse_device_spec(o.device);
  if (o.histories < 1000) throw UsageError("--histories must be >= 1000");
  opt.histories = o.histories;
  if (o.report_histories < 0) throw UsageError("--report-histories must be >= 0");
  opt.report_histories = o.report_histories;
  opt.mlc_histories = o.mlc_histories;
  if (o.seed < 0) throw UsageError("--seed must be >= 0");
  opt.seed = std::uint64_t(o.seed);
  if (o.rounds < 0 || o.rounds > 5) throw UsageError("--rounds must be 0 .. 5 (0: no fit, the model against the data)");
  opt.rounds = o.rounds;
  opt.joint_spectrum = !o.separate_spectrum;
  opt.measurement_uncertainty = parse_fraction(o.uncertainty, "--measurement-uncertainty");
  if (!(opt.measurement_uncertainty > 0 && opt.measurement_uncertainty < 1))
    throw UsageError("--measurement-uncertainty must be a fraction in (0, 1), e.g. 0.5% or 0.005");
  // -1: not given. Anything given must be a gap (NaN or a negative value used to read as "not
  // given" and the MLC was silently not fitted).
  if (o.dlg_mm != -1 && !(std::isfinite(o.dlg_mm) && o.dlg_mm >= 0))
    throw UsageError("--dlg must be a dosimetric leaf gap >= 0 mm");
  opt.dlg_mm = o.dlg_mm;
  if (!o.transmission.empty()) {
    opt.transmission = parse_fraction(o.transmission, "--transmission");
    if (!(opt.transmission > 0 && opt.transmission < 1))
      throw UsageError("--transmission must be a fraction in (0, 1), e.g. 1.2% or 0.012");
  }
  opt.cache_dir = o.no_cache ? "-" : o.cache_dir;
  opt.data_label = o.data_label;
  opt.data_basis = o.data_basis;
  opt.forward = o.forward;
  if (!opt.forward.empty() && (!opt.output.empty() || !opt.report_dir.empty()))
    throw UsageError("--forward computes the model at the measured points; it takes no -o or --report");
  if (!opt.forward.empty() && opt.measured.empty()) throw UsageError("--forward needs --measured (the points)");
  opt.stages.clear();
  std::stringstream ss(o.stages);
  for (std::string s; std::getline(ss, s, ',');)
    if (!s.empty()) opt.stages.insert(s);
  std::vector<std::string> outs;
  if (!opt.output.empty()) outs.push_back(opt.output);
  if (!opt.forward.empty()) outs.push_back(opt.forward);
  check_output_paths(outs);
  interrupt::install_handlers();
  const commission::Result r = commission::commission(opt, [](const std::string& s) {
    interrupt::throw_if_requested();
    spdlog::info("commission: {}", s);
  });
  if (!opt.forward.empty()) {
    std::printf("sabre commission --forward: %s, beam %s -> %s\n", opt.machine_file.c_str(), opt.beam.c_str(),
                opt.forward.c_str());
    return;
  }
  if (o.json_out) {
    std::cout << r.report.dump(1) << "\n";
    return;
  }
  std::printf("sabre commission: %s, beam %s\n", opt.machine_file.c_str(), opt.beam.c_str());
  std::printf("  focal-spot sigma    %.4f -> %.4f cm\n", r.before.primary.sigma_x_cm, r.after.primary.sigma_x_cm);
  std::printf("  extra-focal weight  %.4f -> %.4f\n", r.before.extrafocal.weight, r.after.extrafocal.weight);
  std::printf("  electron weight     %.4f -> %.4f (mean %.2f -> %.2f MeV)\n", r.before.electron.weight,
              r.after.electron.weight, r.before.electron.mean_energy_mev, r.after.electron.mean_energy_mev);
  if (!r.mlc_device.empty())
    std::printf("  %s leaf offset %.4f -> %.4f cm, interleaf gap %.4f -> %.4f cm\n", r.mlc_device.c_str(),
                r.leaf_offset_before_cm, r.leaf_offset_cm, r.gap_before_cm, r.gap_cm);
  if (r.report.contains("summary")) {
    const auto& s = r.report["summary"];
    std::printf("  against the data (fit quality): depth dose beyond d_max %.2f %%, d_max %.2f mm, field size %.2f mm, "
                "penumbra %.2f mm, output factors %.2f %% (< 1.5 cm: %.2f %%), gamma 1%%/1mm lowest %.1f %%\n",
                100 * s["pdd_max_abs_diff_beyond_dmax"].get<double>(), 10 * s["dmax_max_abs_diff_cm"].get<double>(),
                10 * s["field_size_max_abs_diff_cm"].get<double>(), 10 * s["penumbra_max_abs_diff_cm"].get<double>(),
                100 * s["output_factor_max_abs_rel_diff"].get<double>(),
                100 * s["output_factor_max_abs_rel_diff_below_1_5cm"].get<double>(),
                100 * s["gamma_1pct_1mm_min_pass_rate"].get<double>());
  }
  std::printf("  %.0f s (%d Monte Carlo runs, %d from the cache)\n", r.report["cost"].value("total_seconds", 0.0),
              r.report["cost"].value("basis_runs", 0), r.report["cost"].value("basis_cache_hits", 0));
  if (!opt.output.empty()) std::printf("machine file: %s\n", opt.output.c_str());
  if (!opt.report_dir.empty()) std::printf("report: %s/report.md\n", opt.report_dir.c_str());
}

const bool registered = register_command(
    "commission", "Fit a machine file's beam model to measured water-tank data (depth doses, profiles, output factors)",
    [](CLI::App& sub) {
      auto o = std::make_shared<CommissionCli>();
      sub.add_option("machine", o->machine, "Machine file to start from (a path or a stem of the machines directory)")
          ->required();
      sub.add_option("--beam", o->beam, "Beam of the machine file to commission (default 6X-FFF)");
      sub.add_option("--measured", o->measured, "Measured beam-data files (docs/beam-data.md: CSV, w2CAD, mcc)");
      sub.add_option("-o,--output", o->output, "The commissioned machine file to write");
      sub.add_option("--report", o->report, "Report directory (report.md, report.json, plots, curves.csv)");
      sub.add_option("--histories", o->histories, "Histories per set-up and stage, shared by the basis parts (default 2e7)");
      sub.add_option("--report-histories", o->report_histories,
                     "Histories per set-up for the report's runs of the fitted model, for a 10 x 10 cm field; larger fields get more in proportion to their area, up to 9 x (default: --histories)");
      sub.add_option("--seed", o->seed, "Random seed (default 1)");
      sub.add_option("--device", o->device, "auto, cpu, cpu:N, cuda, cuda:N[,M]");
      sub.add_option("--tables", o->tables, "Physics table file (default: the shipped set)");
      sub.add_option("--stages", o->stages, "Stages to fit, comma separated (spectrum,fluence,spot,backscatter)");
      sub.add_option("--rounds", o->rounds, "Passes over the stages (default 2; 0: no fit, only the report of the model as given)");
      sub.add_flag("--separate-spectrum", o->separate_spectrum,
                   "Spectrum stage on depth doses alone, the extra-focal weight left to the spot stage "
                   "(default: spectrum, electrons and extra-focal weight fitted jointly)");
      sub.add_option("--measurement-uncertainty", o->uncertainty, "Relative 1 sigma of a measured point (default 0.5%)");
      sub.add_option("--dlg", o->dlg_mm, "Measured dosimetric leaf gap [mm]: fits the leaf offset");
      sub.add_option("--transmission", o->transmission, "Measured closed-leaf transmission (1.2% or 0.012): fits the interleaf gap");
      sub.add_option("--mlc-histories", o->mlc_histories, "Histories per MLC run (default 4e6)");
      sub.add_option("--cache-dir", o->cache_dir, "Basis cache directory (default: <cache>/commission)");
      sub.add_flag("--no-cache", o->no_cache, "Do not read or write the basis cache");
      sub.add_option("--data-label", o->data_label, "How the fitted values' tags cite the data (default: the file names and digests)");
      sub.add_option("--data-basis", o->data_basis,
                     "The fitted values' basis tag: measured (your machine's data, default) or published (figures from a publication)")
          ->check(CLI::IsMember({"measured", "published"}));
      sub.add_flag("--json", o->json_out, "Print the report as JSON");
      sub.add_option("--forward", o->forward,
                     "No fit: the model computed at the points of --measured, written as CSV to this file");
      sub.callback([o] { run(*o); });
    });

}  // namespace
}  // namespace sabre::cli
