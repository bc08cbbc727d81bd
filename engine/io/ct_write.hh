// Writes a CtImage as a DICOM CT series (one CT Image Storage file per slice), in the
// image's own stored orientation (CtImage::orientation). Used by `sabre phantom` for
// generated test and example phantoms, and by tests.
#pragma once

#include <string>

#include "engine/io/ct_series.hh"

namespace sabre::io {

struct CtWriteOptions {
  std::string series_description = "sabre phantom";
  std::string uid_seed;  // non-empty: UIDs derived from it (reproducible); empty: random UIDs
};

// Writes `dir`/CT_0001.dcm ... (slice 1 first along the slice normal). Fills the missing
// UIDs of `img` (study, series, frame of reference, SOP instances) and its file list.
// HU are stored as unsigned 12-bit values with RescaleIntercept -1024 (range -1024..3071).
// Each slice is written through a temporary name; throws RuntimeError when `dir` cannot be
// created or written.
void write_ct_series(const std::string& dir, CtImage& img, const CtWriteOptions& opt = {});

}  // namespace sabre::io
