// Measured beam data for commissioning (`sabre commission`): depth doses, profiles and
// output factors in water, read from sabre's documented CSV form or from the ASCII files
// water-tank software exports (w2CAD / OmniPro ASCII, PTW mcc). Host only. Formats and
// conventions: docs/beam-data.md.
//
// Conventions (whatever the file's own): lengths in cm; positions of a depth dose are
// depths below the water surface; positions of a profile are signed off-axis distances at
// the scan depth, along IEC X (crossplane), IEC Y (inplane) or the diagonal (distance along
// the line x = y, signed by x); field sizes are the collimator setting at the isocentre
// (side lengths along X and Y); values are relative (any normalisation: the fit normalises).
//
// Every problem with a file (unknown form, wrong units, missing columns or keywords, depths
// not increasing, a set-up that cannot be read) is an InputError naming the file and, where
// there is one, the curve and line.
#pragma once

#include <string>
#include <vector>

namespace sabre::io {

enum class CurveKind { depth_dose, profile };
enum class ProfileAxis { crossplane, inplane, diagonal };  // IEC X, IEC Y, x = y

const char* to_string(CurveKind k);
const char* to_string(ProfileAxis a);

struct MeasuredCurve {
  std::string source;        // "file", or "file: curve 3" for files with several
  CurveKind kind = CurveKind::depth_dose;
  ProfileAxis axis = ProfileAxis::crossplane;  // profiles only
  double field_x_cm = 0, field_y_cm = 0;       // collimator setting at isocentre
  double ssd_cm = 0;         // source-surface distance
  double depth_cm = 0;       // profiles: the scan depth; depth doses: 0
  std::string detector;      // as the file names it ("" when it does not)
  std::vector<double> position_cm;  // increasing (depth doses: depths >= 0)
  std::vector<double> value;        // relative dose, >= 0
  // Relative 1-sigma of each value (a fraction), when the file gives one (sabre's CSV, its
  // optional column sigma_rel); empty when it gives none, 0 for a point left blank. The fit
  // uses it in place of --measurement-uncertainty for that point.
  std::vector<double> sigma_rel;
};

struct OutputFactor {
  std::string source;
  double field_x_cm = 0, field_y_cm = 0;  // collimator setting at isocentre
  double ssd_cm = 0;
  double depth_cm = 0;
  std::string detector;
  double value = 0;          // relative to the file's reference field (usually 10 x 10)
  double sigma_rel = 0;      // relative 1-sigma when the file gives one (0: not given)
};

struct BeamData {
  std::vector<MeasuredCurve> curves;
  std::vector<OutputFactor> output_factors;
  void append(const BeamData& other);
};

// Reads one file, recognising its form from its content: sabre's CSV ("# sabre-beam-data/1"
// on its first line), w2CAD ("$NUMS" / "$STOM" blocks) or PTW mcc ("BEGIN_SCAN_DATA").
BeamData read_beam_data(const std::string& path);

// The forms one by one (read_beam_data dispatches to them).
BeamData read_beam_data_csv(const std::string& path);
BeamData read_beam_data_w2cad(const std::string& path);
BeamData read_beam_data_mcc(const std::string& path);

// Writes `data` in sabre's CSV form (temporary name, renamed on success).
void write_beam_data_csv(const BeamData& data, const std::string& path);

}  // namespace sabre::io
