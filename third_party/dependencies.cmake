# How each dependency is found. All come from Debian 12 packages (third_party/install-deps.sh).
find_package(Threads REQUIRED)

# SQLite 3.40 (libsqlite3-dev): CMake's own module.
find_package(SQLite3 REQUIRED)

# cJSON 1.7.15 (libcjson-dev): pkg-config, header <cjson/cJSON.h>.
find_package(PkgConfig REQUIRED)
pkg_check_modules(CJSON REQUIRED IMPORTED_TARGET libcjson)
add_library(vms::cjson ALIAS PkgConfig::CJSON)

# civetweb 1.15 (libcivetweb-dev): its CMake config on Debian 12 references files that are not
# shipped, so find the header and library directly.
find_path(CIVETWEB_INCLUDE_DIR civetweb.h REQUIRED)
find_library(CIVETWEB_LIBRARY NAMES civetweb REQUIRED)
add_library(vms_civetweb INTERFACE)
target_include_directories(vms_civetweb INTERFACE ${CIVETWEB_INCLUDE_DIR})
target_link_libraries(vms_civetweb INTERFACE ${CIVETWEB_LIBRARY} Threads::Threads)
add_library(vms::civetweb ALIAS vms_civetweb)
