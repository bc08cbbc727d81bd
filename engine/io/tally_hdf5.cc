#include "engine/io/tally_hdf5.hh"

#include "core/errors.hh"
#include "core/h5.hh"
#include "engine/io/dose_hdf5.hh"

namespace sabre::io {

namespace {
constexpr const char* kFormat = "sabre-tally";
constexpr std::int64_t kVersion = 1;
}  // namespace

void write_tally_group(hid_t file, const std::string& path, const BatchTally& tally, const TallyInfo& info) {
  h5::Group root(h5::Handle(H5Gopen2(file, "/", H5P_DEFAULT), H5Gclose), path, "/", true);
  const h5::Group t = root.create_group("tally");
  t.set_attr("format", kFormat);
  t.set_attr("version", kVersion);
  t.set_attr("job_digest", info.job_digest);
  t.set_attr("sabre_commit", info.sabre_commit);
  t.set_attr("first_batch", info.first_batch);
  t.set_attr("next_batch", info.next_batch);
  t.set_attr("batches_total", info.batches_total);
  t.set_attr("histories_total", info.histories_total);
  t.set_attr("part_index", info.part_index);
  t.set_attr("part_count", info.part_count);
  t.set_attr("voxels", tally.voxels());
  t.set_attr("sizes", std::int64_t(tally.sizes().size()));
  const hsize_t nv = hsize_t(tally.voxels());
  for (std::size_t i = 0; i < tally.sizes().size(); ++i) {
    const TallySize& s = tally.sizes()[i];
    const h5::Group g = t.create_group("size_" + std::to_string(i));
    g.set_attr("batch_size", s.batch_size);
    g.set_attr("batches", s.batches);
    std::vector<std::uint64_t> hi(s.sum_q2.size()), lo(s.sum_q2.size());
    for (std::size_t v = 0; v < s.sum_q2.size(); ++v) {
      hi[v] = std::uint64_t(s.sum_q2[v] >> 64);
      lo[v] = std::uint64_t(s.sum_q2[v]);
    }
    g.write("sum_q", s.sum_q, {nv}, 1);
    g.write("sum_q2_hi", hi, {nv}, 1);
    g.write("sum_q2_lo", lo, {nv}, 1);
  }
}

TallyFile read_tally_file(const std::string& path) {
  TallyFile out;
  out.dose = read_dose_hdf5(path);  // InputError naming the file when it is no sabre dose file
  const h5::File f = h5::File::open(path);
  const h5::Group root = f.root();
  if (!root.has("tally"))
    throw InputError(path, "not a part or checkpoint file (no /tally group: a dose file written without "
                           "--part or --checkpoint)");
  const h5::Group t = root.group("tally");
  if (t.attr_string("format") != kFormat || t.attr_int("version") != kVersion)
    throw InputError(path, "unknown tally format or version");
  TallyInfo& in = out.info;
  in.job_digest = t.attr_string("job_digest");
  in.sabre_commit = t.attr_string("sabre_commit");
  in.first_batch = t.attr_int("first_batch");
  in.next_batch = t.attr_int("next_batch");
  in.batches_total = t.attr_int("batches_total");
  in.histories_total = t.attr_int("histories_total");
  in.part_index = t.attr_int("part_index");
  in.part_count = t.attr_int("part_count");
  const std::int64_t nv = t.attr_int("voxels");
  if (nv != out.dose.grid.size()) throw InputError(path, "the tally does not match the dose grid");
  const std::int64_t n_sizes = t.attr_int("sizes");
  if (n_sizes < 0 || n_sizes > 64) throw InputError(path, "tally: implausible number of batch sizes");
  std::vector<TallySize> sizes;
  std::int64_t batches = 0;
  for (std::int64_t i = 0; i < n_sizes; ++i) {
    const h5::Group g = t.group("size_" + std::to_string(i));
    TallySize s;
    s.batch_size = g.attr_int("batch_size");
    s.batches = g.attr_int("batches");
    std::vector<std::uint64_t> hi, lo;
    g.read("sum_q", s.sum_q);
    g.read("sum_q2_hi", hi);
    g.read("sum_q2_lo", lo);
    if (std::int64_t(s.sum_q.size()) != nv || std::int64_t(hi.size()) != nv || std::int64_t(lo.size()) != nv)
      throw InputError(path, "tally arrays do not match the grid");
    if (s.batch_size <= 0 || s.batches < 0) throw InputError(path, "tally: batch size or count out of range");
    s.sum_q2.resize(std::size_t(nv));
    for (std::size_t v = 0; v < s.sum_q2.size(); ++v) s.sum_q2[v] = (uint128(hi[v]) << 64) | lo[v];
    batches += s.batches;
    sizes.push_back(std::move(s));
  }
  if (in.first_batch < 0 || in.next_batch < in.first_batch || in.next_batch > in.batches_total ||
      batches != in.next_batch - in.first_batch)
    throw InputError(path, "tally: the batch counts do not add up (batches " + std::to_string(batches) +
                               ", range " + std::to_string(in.first_batch) + ".." + std::to_string(in.next_batch) +
                               ")");
  try {
    out.tally = BatchTally::from_sizes(nv, std::move(sizes));
  } catch (const std::logic_error& e) {
    throw InputError(path, std::string("tally: ") + e.what());
  }
  return out;
}

}  // namespace sabre::io
