// The capability table as JSON, schema "airlock.explain/v1" (docs/explain.schema.json,
// documented field by field in docs/explain.md). Fields are only ever added within v1.
#pragma once

#include <nlohmann/json.hpp>

#include "explain/capability_table.h"

namespace airlock::explain {

inline constexpr const char* kSchemaVersion = "airlock.explain/v1";

nlohmann::json to_json(const CapabilityTable& table);

}  // namespace airlock::explain
