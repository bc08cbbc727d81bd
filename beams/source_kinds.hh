// The one list of source kinds the transport runs: the host twin and the CUDA kernel are
// instantiated for every alternative of SourceView (kernels/transport.cu and
// engine/backend.hh visit it), so a new kind of source — a new machine's delivery — is a
// type added here and nowhere in kernels/, engine/ or cli/.
//
// A source kind is a plain view (owns nothing, copyable to the device) with
//   SABRE_HD phys::Particle sample(phys::Rng&) const;       // one primary, fixed draws
//   template <class Copier> Kind relocated(Copier&) const;  // deep copy of its arrays
//   static constexpr const char* kKindName;                 // for logs
// (kernels/params_relocation.hh documents the copier). Host objects that own the arrays
// and build the view for a plan are in beams/plan_source.hh.
#pragma once

#include <type_traits>
#include <variant>

#include "beams/helical.hh"
#include "beams/linac_source.hh"
#include "beams/phsp_source.hh"
#include "beams/source.hh"

namespace sabre::beams {

using SourceView = std::variant<SimpleSource, LinacSourceView, PhspSourceView, HelicalSourceView>;

// The name of a source kind, for logs and descriptions.
inline const char* source_kind_name(const SourceView& v) {
  return std::visit([](const auto& s) { return std::decay_t<decltype(s)>::kKindName; }, v);
}

}  // namespace sabre::beams
