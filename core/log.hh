// Logging through spdlog. Logs go to stderr (results go to stdout), as text for people or
// as JSON lines for batch systems (one object per line: time, level, msg).
#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace sabre::log {

enum class Format { text, json };

// Configure the default logger. level: trace, debug, info, warn, error, critical, off.
// Throws UsageError on an unknown level or format name.
void configure(const std::string& level, const std::string& format);
Format parse_format(const std::string& name);

}  // namespace sabre::log
