# Optional adapter targets. Each is an INTERFACE target that adds the
# dependency its headers under include/mend/adapters/ need; the core target
# mend::mend never pulls them in. MEND_ADAPTER_TARGETS lists those that exist
# so the install step exports them.
set(MEND_ADAPTER_TARGETS "")
