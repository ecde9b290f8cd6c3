// mend - self-healing building blocks for connector code.
// Distributed under the Boost Software License, Version 1.0.
#ifndef MEND_VERSION_HPP
#define MEND_VERSION_HPP

#define MEND_VERSION_MAJOR 0
#define MEND_VERSION_MINOR 1
#define MEND_VERSION_PATCH 0

// A single number for preprocessor checks: 10203 is version 1.2.3.
#define MEND_VERSION (MEND_VERSION_MAJOR * 10000 + MEND_VERSION_MINOR * 100 + MEND_VERSION_PATCH)

// Everything public lives in mend::v1. The inline namespace is part of every
// mangled name, so two incompatible versions in one program fail to link
// instead of silently mixing layouts.
#define MEND_BEGIN_NAMESPACE \
  namespace mend {           \
  inline namespace v1 {
#define MEND_END_NAMESPACE \
  }                        \
  }

#endif  // MEND_VERSION_HPP
