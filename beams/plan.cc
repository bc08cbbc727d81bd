#include "beams/plan.hh"

namespace sabre::beams {

bool is_jaw_type(const std::string& t) { return t == "X" || t == "Y" || t == "ASYMX" || t == "ASYMY"; }
bool is_mlc_type(const std::string& t) { return t == "MLCX" || t == "MLCY"; }

const std::vector<double>* ControlPoint::positions(const std::string& type) const {
  const auto it = positions_mm.find(type);
  return it == positions_mm.end() ? nullptr : &it->second;
}

const LimitingDevice* Beam::device(const std::string& type) const {
  for (const auto& d : devices)
    if (d.type == type) return &d;
  return nullptr;
}

const LimitingDevice* Beam::mlc() const {
  for (const auto& d : devices)
    if (is_mlc_type(d.type)) return &d;
  return nullptr;
}

}  // namespace sabre::beams
