// `sabre check`: the secondary-check verdict on a planning system's dose (docs/check.md).
// Host only. The CLI (cli/cmd_check.cc) fills CheckInputs; run_check does the rest:
//
// 1. the two doses: sabre's (a sabre HDF5, Gy per fraction, or an RT Dose) and the
//    planning system's (RT Dose), both brought to the plan's total dose (RT Dose
//    DoseSummationType PLAN as is, FRACTION times the fractions; sabre's HDF5 times the
//    fractions); their frames of reference must be the structure set's;
// 2. gamma (TG-218 default 3 %/2 mm global, 10 % threshold; and the stricter 2 %/1 mm)
//    with the planning system's dose as reference, dose-difference statistics, and the two
//    doses at each isocentre of the plan (when given);
// 3. sub-voxel DVHs (engine/check/dvh.hh) of every structure for both doses, the metrics a
//    plan is judged by (targets: D95, D98, D2, Dmean, V100 %; OARs: D0.035cc, D1cc, Dmean;
//    lungs: V20Gy, V12.5Gy), side by side with their difference, BED and EQD2;
// 4. the prescription check (the prescription isodose covers >= `coverage` % of each PTV);
// 5. OAR constraints for the number of fractions from bundled, cited tables;
// 6. the verdict against a tolerance table, in JSON and a self-contained HTML report.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace sabre::check {

struct CheckInputs {
  std::string sabre_dose;     // sabre HDF5 (per fraction) or RT Dose; "" = recompute (run_file)
  // A `sabre run` file (docs/run-file.md): the plan recomputed first, its HDF5 taken as
  // sabre's dose (and kept in the report as sabre-dose.h5). Its ct, structures and plan
  // stand in for the check's when those are not given; its own outputs are not written.
  std::string run_file;
  std::string tps_dose;       // RT Dose of the planning system
  std::string structures;     // RT Structure Set
  std::string plan;           // RT Plan or native plan ("" = none: no isocentre points)
  std::string ct;             // CT series directory ("" = no slice pictures in the report)
  int fractions = 0;          // 0: from the plan, else the sabre dose's provenance
  double prescription_gy = 0; // total prescription dose; 0: no V100 % / coverage check
  double coverage_percent = 95;
  std::string tps_quantity = "unknown";  // what the user says the planning system reports
  std::string tolerances;     // TOML; "" = the bundled default
  std::vector<std::string> constraint_files;  // "" = the bundled tables
  std::map<std::string, double> alpha_beta;   // structure name -> alpha/beta [Gy]
  std::string report_dir;     // "" = no report files
  int threads = 0;
};

// Exit status of a check that ran: 0 passed; kFailedTolerance when any tolerance or
// constraint is not met (distinct from the error codes of core/errors.hh).
inline constexpr int kFailedTolerance = 10;

struct CheckResult {
  nlohmann::json summary;  // everything, as written to check.json
  bool passed = false;
};

CheckResult run_check(const CheckInputs& in);

// Biologically effective dose and its 2 Gy equivalent for a total dose over n fractions.
double bed(double total_gy, int fractions, double alpha_beta_gy);
double eqd2(double total_gy, int fractions, double alpha_beta_gy);

// Name matching for constraints and roles: upper case, spaces, '-' and '_' removed.
std::string canonical_name(const std::string& name);

}  // namespace sabre::check
