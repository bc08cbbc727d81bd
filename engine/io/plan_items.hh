// Strict element readers shared by the RT Plan readers (engine/io/rtplan.cc,
// engine/io/rtplan_tomo.cc). Host only; DCMTK. A value that is present but not a number is
// an InputError naming `where` and the element: a plan with a garbled MU, leaf position or
// open time must not be read as zero.
#pragma once

#include "engine/io/dicom_util.hh"  // DCMTK first

#include <string>
#include <vector>

namespace sabre::io::detail {

// Text, trimmed ("" when absent; text stored with VR UN is read as text).
std::string get_str(DcmItem& item, const DcmTagKey& tag);
// Present with a non-empty value.
bool has(DcmItem& item, const DcmTagKey& tag);
// The numbers of a DS/IS/FD/FL element (FD exactly, FL via its decimal text), or of decimal text stored with VR UN/OB
// (backslash-separated); empty when absent.
std::vector<double> get_doubles(DcmItem& item, const DcmTagKey& tag, const std::string& where);
double get_double(DcmItem& item, const DcmTagKey& tag, const std::string& where, double dflt);
// The items of a sequence (none when absent).
std::vector<DcmItem*> items(DcmItem& parent, const DcmTagKey& seq_tag);

}  // namespace sabre::io::detail
