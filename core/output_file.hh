// Outputs appear whole or not at all: a writer writes to a temporary name in the target's
// directory and renames it over the target only on success (rename is atomic on POSIX
// file systems). If the writer throws, the temporary file is removed. A process killed
// outright (SIGKILL) leaves its temporary; the next OutputFile for the same target removes
// it (temporaries are named .<name>.tmp-<pid>-<n>; only those of dead processes go).
//
//   sabre::OutputFile out(path);          // checks the directory is writable
//   write_something(out.temp_path());     // may throw
//   out.commit();                         // rename temp -> path
#pragma once

#include <string>
#include <vector>

namespace sabre {

class OutputFile {
 public:
  // Throws RuntimeError (exit 4) naming `path` when its directory does not exist or is not
  // writable.
  explicit OutputFile(std::string path);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_; }
  void commit();  // throws RuntimeError if the rename fails

 private:
  std::string path_;
  std::string temp_;
  bool committed_ = false;
};

// Writes `text` to `path` through an OutputFile: the file appears whole or not at all.
// Throws RuntimeError naming the file when it cannot be written.
void write_text_file(const std::string& path, const std::string& text);

// The name to show in messages for a path that may be an OutputFile's temporary
// (".<name>.tmp-<pid>-<n>" -> "<dir>/<name>"); any other path unchanged.
std::string output_name(const std::string& path);

// Checks, before any work starts, that each path's directory exists and is writable and
// that the path is not a directory; throws RuntimeError naming the first bad path.
void check_output_paths(const std::vector<std::string>& paths);

}  // namespace sabre
