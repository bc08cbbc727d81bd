#include "core/log.hh"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>

#include "core/errors.hh"

namespace sabre::log {
namespace {

// One JSON object per line on stderr: {"time": ISO-8601 UTC, "level": ..., "msg": ...}.
class JsonSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    using namespace std::chrono;
    const auto t = msg.time;
    const auto secs = time_point_cast<seconds>(t);
    const auto ms = duration_cast<milliseconds>(t - secs).count();
    const std::time_t tt = system_clock::to_time_t(secs);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, int(ms));
    nlohmann::ordered_json j;
    j["time"] = buf;
    j["level"] = std::string(spdlog::level::to_string_view(msg.level).data(),
                             spdlog::level::to_string_view(msg.level).size());
    j["msg"] = std::string(msg.payload.data(), msg.payload.size());
    const std::string line = j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    std::fputs(line.c_str(), stderr);
    std::fputc('\n', stderr);
  }
  void flush_() override { std::fflush(stderr); }
};

}  // namespace

Format parse_format(const std::string& name) {
  if (name == "text") return Format::text;
  if (name == "json") return Format::json;
  throw UsageError("unknown log format '" + name + "' (expected text or json)");
}

void configure(const std::string& level, const std::string& format) {
  const auto lvl = spdlog::level::from_str(level);
  // spdlog maps unknown names to 'off'; only accept 'off' when asked for.
  if (lvl == spdlog::level::off && level != "off")
    throw UsageError("unknown log level '" + level +
                     "' (expected trace, debug, info, warn, error, critical or off)");
  std::shared_ptr<spdlog::logger> logger;
  if (parse_format(format) == Format::json) {
    logger = std::make_shared<spdlog::logger>("sabre", std::make_shared<JsonSink>());
  } else {
    logger = std::make_shared<spdlog::logger>(
        "sabre", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%^%l%$] %v");
  }
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace sabre::log
