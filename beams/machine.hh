// A treatment machine model, read from a machine file (beams/machines/*.toml; format in
// docs/machine-file.md): its delivery kind, its stack of collimating devices (each with
// its kind, its axis, the RT Plan device types it serves and its geometry, leaf
// boundaries included) and the beams (energies) it delivers, each a virtual source model.
// Host-only: the transport sees the plain-number views built from it (beams/vsm.hh,
// beams/collimator.hh).
//
// Every number in a machine file carries its basis (measured / published / assumption);
// the parser refuses a value without one, and keeps the tags (Machine::tags) so that a
// run can report which assumptions it rests on.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "beams/collimator.hh"

namespace sabre::beams {

enum class Basis { measured, published, assumption };
const char* to_string(Basis b);

struct Tag {
  Basis basis = Basis::assumption;
  std::string source;
};

// How the machine places its beams: "c-arm" (gantry, collimator and couch angles, one
// isocentre per beam: IEC 61217, beams/iec61217.hh); "robotic" (CyberKnife: each beam a
// node with its own source position and target point, beams/robotic.hh; its collimators
// are exchangeable, one per node); "helical" (TomoTherapy: continuous gantry rotation
// with couch travel, or fixed angles, and a binary MLC, beams/helical.hh).
enum class DeliveryKind { c_arm, robotic, helical };
const char* to_string(DeliveryKind k);

// The kinds of collimating device: CollimatorKind of beams/collimator.hh (one list).
const char* to_string(CollimatorKind k);

// One collimating device, from the machine file's [[collimator]] table. Distances from the
// source [cm]; field positions at the isocentre [cm].
struct CollimatorSpec {
  CollimatorKind kind = CollimatorKind::jaws;
  int axis = 0;                          // 0: its parts move along IEC X_b, 1: along Y_b
  std::vector<std::string> dicom_types;  // RTBeamLimitingDeviceType values it serves (jaws, MLC)
  std::string model;                     // "HD120", "Agility" (MLC), "" (jaws)
  double top_cm = 0;                     // source to the top face
  double thickness_cm = 0;               // along the beam axis (jaw thickness, leaf height)
  double density_g_cm3 = 0;
  // jaws
  double max_open_cm = 0;                // largest opening of one jaw from the axis
  // mlc
  std::vector<double> boundaries_cm;     // leaf boundaries across the motion, pairs + 1
  double tongue_groove_cm = 0;           // tongue/groove overlap width at isocentre
  double interleaf_gap_cm = 0;           // air gap between neighbours at isocentre
  double leaf_side_tilt_rad = 0;         // tilt of the leaf sides from the focused plane
  double leaf_end_radius_cm = 0;         // radius of the rounded leaf end (physical)
  double leaf_offset_cm = 0;             // tip shift at isocentre, + opens
  double transmission_min = 0, transmission_max = 0;  // documented emergent range
  double dlg_min_cm = 0, dlg_max_cm = 0;                // documented emergent range
  // cone, iris
  std::vector<std::string> applicator_types;  // ApplicatorType values it serves (STEREOTACTIC, ...)
  std::vector<double> diameters_cm;           // the cones (Iris: nominal sizes), diameter at isocentre
  // iris: ApplicatorID patterns (glob) that select it rather than the cones; the inscribed
  // radius of its 12-sided aperture per nominal size
  std::vector<std::string> applicator_ids;
  double inradius_per_size = 0.5;

  double bottom_cm() const { return top_cm + thickness_cm; }
  int pairs() const { return boundaries_cm.empty() ? 0 : int(boundaries_cm.size()) - 1; }
  bool serves(const std::string& dicom_type) const;
  bool serves_applicator(const std::string& applicator_type) const;  // a cone's type
  bool has_size(double size_cm) const;  // one of diameters_cm (0.01 mm)
  // The key of its tags, "collimator.<name>.*": its first DICOM type, "CONE" for a cone,
  // "IRIS" for the Iris.
  std::string name() const;
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
  // The same for given constants kx, ky (a fit trying values; the member passes its own).
  static double monitor_signal(double kx, double ky, double field_x_cm, double field_y_cm);
};

struct Machine {
  std::string path;  // the file it was read from
  std::string name, manufacturer, description;
  DeliveryKind kind = DeliveryKind::c_arm;
  std::vector<std::string> match_names;  // TreatmentMachineName patterns ('*' wildcard)
  double sad_cm = 0;
  double max_field_cm = 0;               // side of the largest square field at isocentre
  double leaf_latency_s = 0;             // helical: leaf latency (optional key leaf_latency_ms)
  std::vector<CollimatorSpec> collimators;  // from the source down
  // RT Plan device types a plan may carry for this machine that do not exist on it and are
  // ignored (e.g. the X jaws some planning systems write for an Agility head).
  std::vector<std::string> ignored_dicom_types;
  std::vector<BeamModel> beams;
  std::map<std::string, Tag> tags;  // "beam.6X-FFF.primary.sigma_x_cm" -> basis/source

  // The beam with this nominal energy [MV] (within 0.05 MV) and FFF flag, or nullptr.
  const BeamModel* find_beam(double energy_mv, bool fff) const;
  const BeamModel* beam_named(const std::string& name) const;
  bool matches_name(const std::string& treatment_machine_name) const;
  const CollimatorSpec* serving(const std::string& dicom_type) const;  // nullptr: none
  const CollimatorSpec* mlc() const;                                   // the first MLC
  const CollimatorSpec* cone() const;                                  // the cone, or nullptr
  const CollimatorSpec* iris() const;                                  // the Iris, or nullptr
  bool ignores(const std::string& dicom_type) const;
};

// Parses and validates a machine file. Throws InputError naming the file and the key.
Machine load_machine(const std::string& path);

// All machine files (*.toml) in `dir`, sorted; empty when the directory is absent.
std::vector<std::string> machine_files(const std::string& dir);

// Case-insensitive glob match with '*' (any run of characters) and '?' (one character).
bool glob_match(const std::string& pattern, const std::string& text);

}  // namespace sabre::beams
