#pragma once
// Loading and validating the YAML configuration. Every error is reported at once,
// each with file, line, column, key path, what was expected and what was found:
//   hpand.yaml:14:3: delivery.retry.first: expected a duration like 10s, got "ten"

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"

namespace hpan::config {

struct ConfigError {
  std::string file;
  int line = 0;    // 1-based; 0 when not tied to a position
  int column = 0;  // 1-based
  std::string key;
  std::string message;
  std::string to_string() const;
};

struct LoadResult {
  std::optional<Config> config;  // set when there are no errors
  std::vector<ConfigError> errors;
};

LoadResult load_config_file(const std::string& path);
LoadResult load_config_string(const std::string& text, const std::string& display_name);
Config default_config();

// A commented YAML file with every key at its default (hpand --dump-default-config).
std::string dump_default_config();
// docs/config.md (hpand --config-docs).
std::string config_docs_markdown();

// Parses "10s", "1h30m", "6mo", "2y"; `allow_calendar` admits mo and y.
std::optional<Period> parse_period(const std::string& text, bool allow_calendar);
std::string format_period(const Period& p);

}  // namespace hpan::config
