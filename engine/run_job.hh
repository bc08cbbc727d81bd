// `sabre run`: the main job end to end. CT (+ structures) and RT Plan in, absolute dose
// out (HDF5, DICOM RT Dose, pictures, summary). The CLI (cli/cmd_run.cc) only fills a
// RunConfig; tests call run_job directly or through the executable.
//
// Order: check the configuration and every output path (before any work), read the plan
// and choose its machine model, read the CT and structure set (frames of reference must
// match the plan's), calibrate (reference field in water, or its cached result), run the
// plan's histories in batches until the first stopping rule (histories, target
// uncertainty, time limit), convert to Gy, then write all outputs under temporary names
// and rename them together at the end. SIGINT/SIGTERM between batches end the job with
// sabre::Interrupted (exit 5) and nothing written.
//
// Dose unit: Gy per fraction (the plan's BeamMeterset is per fraction); the total is that
// times FractionGroupSequence's NumberOfFractionsPlanned, reported in the summary.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "engine/progress.hh"
#include "engine/run_config.hh"

namespace sabre {

// Runs the job; returns the summary (also written to cfg.summary_json when set).
nlohmann::json run_job(const RunConfig& cfg, ProgressReporter::Mode progress);

// The summary as a few lines of text for people.
std::string format_summary(const nlohmann::json& summary);

}  // namespace sabre
