#include "physics/transport/phantom_derived.hh"

namespace sabre::phys {

void use_phantom_derived_data(TransportParams& tp, PhantomDerivedStorage& storage) {
  use_phantom_majorant(tp, storage.majorant);
  use_step_safety(tp, storage.safety);
  use_block_majorant(tp, storage.blocks);
}

}  // namespace sabre::phys
