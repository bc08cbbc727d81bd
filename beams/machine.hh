// A linac machine model, read from a machine file (beams/machines/*.toml; format in
// docs/machine-file.md). Host-only: the transport sees the plain-number views built from
// it (beams/vsm.hh, beams/collimator.hh).
//
// Every number in a machine file carries its basis (measured / published / assumption);
// the parser refuses a value without one, and keeps the tags (Machine::tags) so that a
// run can report which assumptions it rests on.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace sabre::beams {

enum class Basis { measured, published, assumption };
const char* to_string(Basis b);

struct Tag {
  Basis basis = Basis::assumption;
  std::string source;
};

// One pair of jaws (divergent tungsten blocks). Distances from the source [cm].
struct JawSpec {
  double top_cm = 0;         // source to the top face
  double thickness_cm = 0;   // along the beam axis
  double density_g_cm3 = 0;
  double max_open_cm = 0;    // largest opening of one jaw from the axis, at isocentre
};

struct MlcSpec {
  std::string model;                  // "HD120", "Millennium120"
  int leaf_pairs = 0;
  double central_leaf_width_cm = 0;   // narrowest leaf, at isocentre (plan check only)
  double top_cm = 0;                  // source to the top of the leaves [cm]
  double height_cm = 0;               // leaf height along the beam axis [cm]
  double density_g_cm3 = 0;
  double tongue_groove_cm = 0;        // tongue/groove overlap width at isocentre [cm]
  double interleaf_gap_cm = 0;        // air gap between neighbours at isocentre [cm]
  double leaf_end_radius_cm = 0;      // radius of the rounded leaf end (physical) [cm]
  double leaf_offset_cm = 0;          // tip shift at isocentre, + opens [cm]
  double transmission_min = 0, transmission_max = 0;  // documented emergent range
  double dlg_min_cm = 0, dlg_max_cm = 0;                // documented emergent range
};

struct BeamModel {
  std::string name;  // "6X-FFF"
  double energy_mv = 0;
  bool fff = false;
  struct {
    double sigma_x_cm = 0, sigma_y_cm = 0;  // focal spot Gaussian sigmas at z = 0
    double tail_weight = 0, tail_sigma_cm = 0;  // optional second (broad) Gaussian
  } primary;
  struct {
    double weight = 0;        // fraction of emitted photons from the extra-focal source
    double z_cm = 0;          // plane distance from the target [cm]
    double sigma_cm = 0;      // Gaussian sigma in that plane [cm]
    double energy_scale = 1;  // energies = primary spectrum sample x energy_scale
  } extrafocal;
  struct {
    double weight = 0;           // fraction of emitted particles that are electrons
    double mean_energy_mev = 0;  // exponential spectrum mean [MeV]
    double radius_cm = 0;        // uniform disc radius at the extra-focal plane [cm]
  } electron;
  std::vector<double> spectrum_energies_mev;  // bin centres, increasing [MeV]
  std::vector<double> spectrum_weights;       // relative, normalised to sum 1 on load
  double softening_per_cm = 0;                // off-axis energy factor slope [1/cm]
  std::vector<double> fluence_r_cm;           // FFF radial fluence abscissae (iso plane) [cm]
  std::vector<double> fluence_rel;            // relative fluence, 1 on axis
  struct {
    double ssd_cm = 0, field_cm = 0, depth_cm = 0;
    double gy_per_mu = 0;                // dose per MU at the reference point [Gy/MU]
    double backscatter_kx = 0, backscatter_ky = 0;
  } calibration;

  // Relative monitor-chamber signal per emitted particle for jaw openings X, Y (full
  // widths at isocentre [cm]): S = 1 + kx (1 - X/40) + ky (1 - Y/40), clamped to >= 0
  // openings. More backscatter (small fields) -> fewer particles per MU.
  double monitor_signal(double field_x_cm, double field_y_cm) const;
};

struct Machine {
  std::string path;  // the file it was read from
  std::string name, manufacturer, description;
  std::vector<std::string> match_names;  // TreatmentMachineName patterns ('*' wildcard)
  double sad_cm = 0;
  JawSpec jaw_x, jaw_y;  // jaw_y upper on a TrueBeam
  MlcSpec mlc;
  std::vector<BeamModel> beams;
  std::map<std::string, Tag> tags;  // "beam.6X-FFF.primary.sigma_x_cm" -> basis/source

  // The beam with this nominal energy [MV] (within 0.05 MV) and FFF flag, or nullptr.
  const BeamModel* find_beam(double energy_mv, bool fff) const;
  bool matches_name(const std::string& treatment_machine_name) const;
};

// Parses and validates a machine file. Throws InputError naming the file and the key.
Machine load_machine(const std::string& path);

// All machine files (*.toml) in `dir`, sorted; empty when the directory is absent.
std::vector<std::string> machine_files(const std::string& dir);

// Case-insensitive glob match with '*' (any run of characters) and '?' (one character).
bool glob_match(const std::string& pattern, const std::string& text);

}  // namespace sabre::beams
