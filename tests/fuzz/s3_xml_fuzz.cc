// Fuzz target: an S3 answer body: a ListObjectsV2 page (with and without a filesystem prefix)
// and the <Code>/<Message> of an error body.
#include <cstddef>
#include <cstdint>

#include "fuzz_util.h"
#include "lake/internal/s3_xml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace s3xml = pulse::lake::s3xml;
  const auto text = pulse::fuzz::AsText(data, size);
  auto page = s3xml::ParseListObjectsV2(text, "");
  (void)page;
  auto prefixed = s3xml::ParseListObjectsV2(text, "lake/signals");
  (void)prefixed;
  (void)s3xml::Tag(text, "Code");
  (void)s3xml::Tag(text, "Message");
  return 0;
}
