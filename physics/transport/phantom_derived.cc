#include "physics/transport/phantom_derived.hh"

namespace sabre::phys {

void use_phantom_derived_data(TransportParams& tp, PhantomDerivedStorage& storage) {
  // One walk over the grid (it checks the material indices) serves all three.
  const MaterialDensityRange range = material_density_range(tp);
  use_phantom_majorant(tp, range, storage.majorant);
  use_step_safety(tp, range, storage.safety);
  use_block_majorant(tp, range, storage.blocks);
}

}  // namespace sabre::phys
