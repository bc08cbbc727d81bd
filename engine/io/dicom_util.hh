// Small DCMTK helpers shared by sabre's DICOM readers and writers (engine/io/*).
// Every failure is an InputError naming the file and the problem.
#pragma once

#include "dcmtk/config/osconfig.h"  // must come first for DCMTK
#include "dcmtk/dcmdata/dctk.h"

#include <memory>
#include <string>
#include <vector>

namespace sabre::io::dicom {

// Registers the decoders for compressed transfer syntaxes DCMTK can decode (JPEG
// baseline/extended/lossless, JPEG-LS, RLE). Idempotent.
void register_codecs();

// Loads a DICOM file (Part 10, or a raw data set without the meta header). Throws
// InputError naming `path` when it is missing or cannot be parsed (truncated, not DICOM).
std::unique_ptr<DcmFileFormat> load(const std::string& path);

// True when the file starts with the DICOM Part 10 preamble and "DICM".
bool has_dicm_magic(const std::string& path);

// Element values; "" / empty when absent.
std::string str(DcmItem& item, const DcmTagKey& tag);
// The items of a sequence in order, in time linear in their number (DCMTK's getItem(i)
// walks the list from its head, so a loop over getItem is quadratic: 200 000 control points
// took minutes to read).
std::vector<DcmItem*> sequence_items(DcmSequenceOfItems& seq);
// A numeric element's values (empty when absent); reading stops at the first value that is
// not a finite number (lenient: for what only decorates, such as a display colour).
std::vector<double> doubles(DcmItem& item, const DcmTagKey& tag);
// The same, strict: a value that is not a finite number (text that is not wholly a number,
// "nan", an overflow) is an InputError(path, "<TagName> (gggg,eeee): 'text' is not a finite
// number"). Empty when absent.
std::vector<double> finite_doubles(DcmItem& item, const DcmTagKey& tag, const std::string& path);
// A required value: throws InputError(path, "missing <name>") when absent or empty.
std::string require_str(DcmItem& item, const DcmTagKey& tag, const std::string& path);
std::vector<double> require_doubles(DcmItem& item, const DcmTagKey& tag, std::size_t n,
                                    const std::string& path);

// A new, globally unique UID under the UUID-derived root 2.25 (ISO/IEC 9834-8).
std::string new_uid();
// A UID under 2.25 derived from `seed` by a 128-bit hash: the same seed gives the same UID
// (for reproducible generated phantoms).
std::string uid_from(const std::string& seed);

// "DS" text for a double: up to 16 characters, as the standard allows.
std::string ds(double v);

// Saves `ff` to `path` via a temporary name (OutputFile), explicit VR little endian.
void save(DcmFileFormat& ff, const std::string& path);

}  // namespace sabre::io::dicom
