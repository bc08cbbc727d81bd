// The files of `sabre check --report DIR` (docs/check.md, "Report"): check.json (the
// summary), report.html (self-contained: every picture embedded), report.pdf (the same
// sections; engine/check/pdf.hh) and png/ (the pictures as files). Written into a temporary directory beside DIR and renamed to it at
// the end: the report appears whole or not at all. Host only.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "engine/check/dvh.hh"
#include "engine/compare/gamma.hh"
#include "engine/dose_result.hh"
#include "engine/io/ct_series.hh"
#include "engine/io/rtstruct.hh"

namespace sabre::check {

struct ReportInputs {
  const nlohmann::json* summary = nullptr;
  const DoseResult* sabre = nullptr;          // grid and provenance
  const std::vector<float>* sabre_total = nullptr;
  const DoseResult* tps = nullptr;
  const std::vector<float>* tps_total = nullptr;
  const io::StructureSet* structures = nullptr;
  const io::CtImage* ct = nullptr;            // nullptr: no slice pictures
  const compare::GammaResult* gamma = nullptr;
  std::vector<std::pair<const Dvh*, const Dvh*>> dvhs;  // (sabre, planning system)
  std::string keep_dose;  // a recomputed dose file to move into the report (sabre-dose.h5); "" = none
};

// Throws RuntimeError when DIR exists and is not empty, or cannot be written.
void write_report(const std::string& dir, const ReportInputs& in);

// RFC 4648 base64 (for the embedded pictures).
std::string base64(const std::string& bytes);

}  // namespace sabre::check
