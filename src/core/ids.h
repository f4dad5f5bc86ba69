// Identifiers: random UUIDs for file names, table ids and task ids.
#pragma once

#include <string>

namespace pulse {

// A random (version 4) UUID in canonical form, e.g. "3f2b8c1e-9a4d-4e2f-b6c1-0d9e8f7a6b5c".
// Thread-safe; each thread draws from its own generator seeded from std::random_device.
std::string NewUuid();

}  // namespace pulse
