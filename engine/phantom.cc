#include "engine/phantom.hh"

#include <algorithm>

#include "core/errors.hh"

namespace sabre {

phys::PhantomView Phantom::view() const {
  SABRE_EXPECT(static_cast<std::int64_t>(material.size()) == grid.size(),
               "phantom material array does not match its grid");
  SABRE_EXPECT(static_cast<std::int64_t>(density_g_cm3.size()) == grid.size(),
               "phantom density array does not match its grid");
  phys::PhantomView v;
  v.grid = edges.attach(grid);
  v.material = material.data();
  v.density_g_cm3 = density_g_cm3.data();
  v.max_density_g_cm3 =
      density_g_cm3.empty() ? 0.f : *std::max_element(density_g_cm3.begin(), density_g_cm3.end());
  return v;
}

void Phantom::resolve_materials(const std::vector<std::string>& table_names,
                                const std::string& table_file) {
  std::vector<std::int32_t> remap(material_names.size(), -1);
  for (std::size_t m = 0; m < material_names.size(); ++m) {
    const auto it = std::find(table_names.begin(), table_names.end(), material_names[m]);
    if (it == table_names.end()) {
      std::string known;
      for (const auto& n : table_names) known += (known.empty() ? "" : ", ") + n;
      throw InputError(table_file, "the physics table set has no material '" + material_names[m] +
                                       "' (needed by the CT calibration); it has: " + known);
    }
    remap[m] = static_cast<std::int32_t>(it - table_names.begin());
  }
  for (auto& id : material) {
    SABRE_EXPECT(id >= 0 && static_cast<std::size_t>(id) < remap.size(),
                 "phantom material index out of range");
    id = remap[id];
  }
  material_names = table_names;
}

}  // namespace sabre
