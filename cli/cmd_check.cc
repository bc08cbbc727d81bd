// sabre check: the secondary-check verdict on a planning system's dose (docs/check.md).
#include <cmath>
#include <iostream>
#include <memory>

#include "cli/registry.hh"
#include "core/errors.hh"
#include "core/number.hh"
#include "core/log.hh"
#include "engine/check/check.hh"

namespace sabre::cli {
namespace {

struct CheckOptions {
  check::CheckInputs in;
  std::vector<std::string> alpha_beta;
  bool json = false;
};

void run(CheckOptions& o) {
  if (o.in.prescription_gy < 0) throw UsageError("--prescription must be > 0 Gy");
  if (!(o.in.coverage_percent > 0 && o.in.coverage_percent <= 100)) throw UsageError("--coverage must be in (0, 100] %");
  if (o.in.tps_quantity != "unknown" && o.in.tps_quantity != "medium" && o.in.tps_quantity != "water")
    throw UsageError("--tps-quantity must be medium, water or unknown");
  for (const auto& a : o.alpha_beta) {
    const auto eq = a.rfind('=');
    const auto parsed = eq == std::string::npos ? std::nullopt : parse_finite(std::string_view(a).substr(eq + 1));
    const double v = parsed.value_or(0);
    if (eq == std::string::npos || eq == 0 || !(v > 0))
      throw UsageError("--alpha-beta '" + a + "': expected STRUCTURE=VALUE with a value > 0 Gy");
    o.in.alpha_beta[a.substr(0, eq)] = v;
  }
  const auto r = check::run_check(o.in);
  const auto& s = r.summary;
  if (o.json) {
    std::cout << s.dump() << "\n";
  } else {
    std::cout << "sabre check: " << (r.passed ? "PASSED" : "FAILED TOLERANCE") << " (" << s["fractions"].get<int>()
              << " fraction(s); doses are totals)\n";
    for (const auto& g : s["gamma"])
      std::cout << "  gamma " << g["dose_percent"].get<double>() << "%/" << g["distance_mm"].get<double>()
                << " mm global: " << g["pass_rate_percent"].get<double>() << " % pass\n";
    for (const auto& f : s["verdict"]["failures"]) std::cout << "  failed: " << f["check"].get<std::string>() << "\n";
    if (!o.in.report_dir.empty()) std::cout << "  report: " << o.in.report_dir << "/report.html\n";
  }
  set_exit_status(r.passed ? 0 : check::kFailedTolerance);
}

const bool registered = register_command(
    "check", "Secondary check of a planning system's dose: gamma, DVH metrics, constraints, verdict",
    [](CLI::App& sub) {
      auto o = std::make_shared<CheckOptions>();
      sub.add_option("--dose", o->in.sabre_dose, "sabre's dose: the HDF5 of sabre run (per fraction) or an RT Dose");
      sub.add_option("--run", o->in.run_file,
                     "Instead of --dose: recompute the plan with this sabre run file first (its dose kept in the report)");
      sub.add_option("--tps-dose", o->in.tps_dose, "The planning system's RT Dose (PLAN or FRACTION)")->required();
      sub.add_option("--structures", o->in.structures, "RT Structure Set (default: the run file's)");
      sub.add_option("--plan", o->in.plan, "RT Plan (fractions, isocentre point doses)");
      sub.add_option("--ct", o->in.ct, "CT series directory (slice pictures in the report)");
      sub.add_option("--fractions", o->in.fractions, "Number of fractions (default: the plan's)");
      sub.add_option("--prescription", o->in.prescription_gy, "Total prescription dose [Gy] (V100 %, coverage)");
      sub.add_option("--coverage", o->in.coverage_percent, "Required PTV coverage by the prescription isodose [%]")
          ->capture_default_str();
      sub.add_option("--tps-quantity", o->in.tps_quantity, "What the planning system reports: medium, water, unknown")
          ->capture_default_str();
      sub.add_option("--tolerances", o->in.tolerances, "Tolerance table (TOML; default engine/check/data/tolerances.toml)");
      sub.add_option("--constraints", o->in.constraint_files, "Constraint tables (TOML; default: AAPM TG-101)");
      sub.add_option("--alpha-beta", o->alpha_beta, "STRUCTURE=VALUE [Gy] (default 10 targets, 2 cord/plexus, 3 other)");
      sub.add_option("--report", o->in.report_dir, "Write check.json, report.html, report.pdf and png/ into this new directory");
      sub.add_option("--threads", o->in.threads, "Worker threads for gamma (default: all)");
      sub.add_flag("--json", o->json, "Print the summary as JSON");
      sub.callback([o] { run(*o); });
    });

}  // namespace
}  // namespace sabre::cli
