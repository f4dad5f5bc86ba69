// Standard base64 (RFC 4648, alphabet A-Z a-z 0-9 + /, '=' padding), as Celery's kombu envelope
// encodes message bodies.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace pulse {

std::string Base64Encode(std::string_view bytes);
// kInvalidArgument for characters outside the alphabet, bad padding or a length not a multiple
// of 4 (whitespace is not accepted).
Result<std::string> Base64Decode(std::string_view text);

}  // namespace pulse
