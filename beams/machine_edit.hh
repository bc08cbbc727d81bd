// Editing a machine file's text (beams/machines/*.toml) in place of the values that
// commissioning fits, keeping everything else — comments, order, the other tags — as it
// was. Host only; the result is re-read with load_machine() by the caller.
//
// Addresses: a beam's sub-table ("beam 6X-FFF", "primary") or a collimator ("collimator
// MLCX": the [[collimator]] block whose dicom_types start with MLCX).
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace sabre::beams {

class MachineText {
 public:
  explicit MachineText(std::string text, std::string path = "");
  const std::string& text() const { return text_; }

  // Replaces the tagged value `key = { value = ..., basis = ..., source = ... }` of the
  // sub-table `sub` ("primary", "extrafocal", "electron", "off_axis", "calibration") of the
  // [[beam]] named `beam`. Throws InputError(path) when the key is not there.
  void set_beam_tagged(const std::string& beam, const std::string& sub, const std::string& key, double value,
                       const std::string& basis, const std::string& source);
  // Replaces only the number of a tagged value of a beam's sub-table, keeping its basis and
  // source (a value that moves with a fitted one but was not fitted itself).
  void set_beam_value(const std::string& beam, const std::string& sub, const std::string& key, double value);
  // Replaces an untagged array `key = [...]` of a beam's sub-table ("spectrum" weights,
  // "off_axis" fluence_rel) and that sub-table's block basis/source.
  void set_beam_array(const std::string& beam, const std::string& sub, const std::string& key,
                      const std::vector<double>& values, const std::string& basis, const std::string& source);
  // Replaces a tagged value of the [[collimator]] whose first DICOM type is `device`.
  void set_collimator_tagged(const std::string& device, const std::string& key, double value,
                             const std::string& basis, const std::string& source);

 private:
  // [begin, end) character range of a table's body.
  struct Range { std::size_t begin, end; };
  Range beam_sub(const std::string& beam, const std::string& sub) const;
  Range collimator(const std::string& device) const;
  void replace_line(Range r, const std::string& key, const std::string& new_line, const std::string& where);
  // The line of `key` in r, replaced by edit(old line); InputError(where) when it is not there.
  void edit_line(Range r, const std::string& key, const std::string& where,
                 const std::function<std::string(const std::string&)>& edit);

  std::string text_, path_;
};

// A TOML basic string with quotes and backslashes escaped.
std::string toml_string(const std::string& s);

}  // namespace sabre::beams
