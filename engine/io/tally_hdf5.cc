#include "engine/io/tally_hdf5.hh"

#include <algorithm>

#include "core/errors.hh"
#include "core/crash_guard.hh"
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
  t.set_attr("job_kind", info.job_kind);
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

static TallyFile read_tally_file_unguarded(const std::string& path) {
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
  in.job_kind = t.has_attr("job_kind") ? t.attr_string("job_kind") : "simulate";
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

void check_resumable(const TallyFile& cp, const TallyInfo& ti, std::int64_t voxels, const std::string& path) {
  const TallyInfo& r = cp.info;
  if (r.job_kind != ti.job_kind)
    throw InputError(path, "checkpoint of a `sabre " + r.job_kind + "` job, not of `sabre " + ti.job_kind +
                               "`: refusing to resume");
  if (r.sabre_commit != ti.sabre_commit)
    throw InputError(path, "checkpoint written by another sabre build (" + r.sabre_commit + ", this is " +
                               ti.sabre_commit + "): refusing to resume");
  if (r.job_digest != ti.job_digest)
    throw InputError(path, "checkpoint of another job (" +
                               std::string(ti.job_kind == "run"
                                               ? "CT, structures, plan, machine, tables, overrides, seed, histories, "
                                                 "batches or physics switches"
                                               : "input file, spectrum, tables, seed, histories or batches") +
                               " differ): refusing to resume");
  if (r.part_index != ti.part_index || r.part_count != ti.part_count || r.first_batch != ti.first_batch)
    throw InputError(path, "checkpoint of part " + std::to_string(r.part_index) + "/" + std::to_string(r.part_count) +
                               ", not of the part asked for (" + std::to_string(ti.part_index) + "/" +
                               std::to_string(ti.part_count) + ")");
  if (cp.tally.voxels() != voxels) throw InputError(path, "checkpoint grid differs from this job's");
}

MergedParts merge_parts(const std::vector<std::string>& paths, const std::string& kind, const std::string& hint) {
  if (paths.empty()) throw UsageError("no part files given");
  std::vector<TallyFile> parts;
  for (const auto& p : paths) {
    parts.push_back(read_tally_file(p));
    if (parts.back().info.job_kind != kind)
      throw InputError(p, "a part of a `sabre " + parts.back().info.job_kind + "` job, not of `sabre " + kind +
                              "`: " + hint);
  }
  const TallyInfo& a = parts[0].info;
  std::vector<int> seen(std::size_t(std::max<std::int64_t>(a.part_count, 1)), -1);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const TallyInfo& b = parts[i].info;
    const std::string& f = paths[i];
    if (b.job_digest != a.job_digest || b.sabre_commit != a.sabre_commit)
      throw InputError(f, "a part of another job than " + paths[0] +
                              " (its inputs, seed, histories, batches or sabre build differ)");
    if (b.part_count != a.part_count || b.batches_total != a.batches_total)
      throw InputError(f, "split into " + std::to_string(b.part_count) + " parts, " + paths[0] + " into " +
                              std::to_string(a.part_count));
    if (b.part_index < 0 || b.part_index >= b.part_count) throw InputError(f, "part index out of range");
    if (seen[std::size_t(b.part_index)] >= 0)
      throw InputError(f, "part " + std::to_string(b.part_index) + " given twice (also " +
                              paths[std::size_t(seen[std::size_t(b.part_index)])] + ")");
    seen[std::size_t(b.part_index)] = int(i);
    const std::int64_t lo = b.batches_total * b.part_index / b.part_count;
    const std::int64_t hi = b.batches_total * (b.part_index + 1) / b.part_count;
    if (b.first_batch != lo || b.next_batch != hi)
      throw InputError(f, "part " + std::to_string(b.part_index) + " is incomplete (batches " +
                              std::to_string(b.first_batch) + ".." + std::to_string(b.next_batch) + " of " +
                              std::to_string(lo) + ".." + std::to_string(hi) +
                              "): resume it from its checkpoint first");
    if (parts[i].dose.grid.size() != parts[0].dose.grid.size() || !(parts[i].dose.edges == parts[0].dose.edges) ||
        parts[i].dose.density_g_cm3 != parts[0].dose.density_g_cm3)
      throw InputError(f, "grid or densities differ from " + paths[0]);
  }
  for (std::size_t k = 0; k < seen.size(); ++k)
    if (seen[k] < 0)
      throw InputError(paths[0], "part " + std::to_string(k) + " of " + std::to_string(a.part_count) + " is missing");
  MergedParts m;
  m.info = a;
  m.tally = BatchTally(parts[0].tally.voxels());
  for (std::size_t k = 0; k < seen.size(); ++k) {
    const TallyFile& p = parts[std::size_t(seen[k])];
    m.tally.merge(p.tally);
    m.wall_seconds += p.dose.wall_seconds;
    if (m.devices.find(p.dose.device) == std::string::npos)
      m.devices += (m.devices.empty() ? "" : "; ") + p.dose.device;
  }
  m.first = std::move(parts[std::size_t(seen[0])].dose);
  m.from = std::to_string(paths.size()) + " parts: ";
  for (std::size_t i = 0; i < paths.size(); ++i) m.from += (i ? ", " : "") + paths[i];
  return m;
}


TallyFile read_tally_file(const std::string& path) {
  // A corrupted file can crash the HDF5 library (core/crash_guard.hh): one message instead.
  TallyFile out;
  guarded_read(path, [&] { out = read_tally_file_unguarded(path); });
  return out;
}

}  // namespace sabre::io
