// The S3 server the integration tests talk to: scripts/test starts it and exports
// PULSE_TEST_S3_ENDPOINT. Each test gets a fresh bucket.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <string>

#include "core/ids.h"
#include "lake/filesystem.h"

namespace pulse::lake::testing {

inline S3Options TestS3Options() {
  S3Options o;
  const char* endpoint = std::getenv("PULSE_TEST_S3_ENDPOINT");
  o.endpoint = endpoint ? endpoint : "";
  o.access_key = "pulse";
  o.secret_key = "pulse-secret";
  o.max_retries = 2;
  return o;
}

// A new bucket on the test server; fails the test if the server is not configured.
inline std::string NewBucket() {
  const char* endpoint = std::getenv("PULSE_TEST_S3_ENDPOINT");
  if (endpoint == nullptr || *endpoint == 0) {
    ADD_FAILURE() << "PULSE_TEST_S3_ENDPOINT is not set: run the integration tier through scripts/test";
    return "";
  }
  std::string bucket = "pulse-" + NewUuid().substr(0, 18);
  Status st = CreateS3Bucket(bucket, TestS3Options());
  EXPECT_TRUE(st.ok()) << st.ToString();
  return bucket;
}

}  // namespace pulse::lake::testing
