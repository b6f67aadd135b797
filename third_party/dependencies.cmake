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

# OpenSSL 3.0 (libssl-dev): TLS for `vmscope serve` and `vmscope snapshot --upload`. civetweb 1.15
# as Debian builds it dlopens "libssl.so" / "libcrypto.so" (the -dev package's names) itself; we
# link the same library for the certificate setup, the self-signed certificate and the client.
find_path(OPENSSL_INCLUDE_DIR openssl/ssl.h REQUIRED)
find_library(OPENSSL_SSL_LIBRARY NAMES ssl REQUIRED)
find_library(OPENSSL_CRYPTO_LIBRARY NAMES crypto REQUIRED)
add_library(vms_openssl INTERFACE)
target_include_directories(vms_openssl INTERFACE ${OPENSSL_INCLUDE_DIR})
target_link_libraries(vms_openssl INTERFACE ${OPENSSL_SSL_LIBRARY} ${OPENSSL_CRYPTO_LIBRARY})
add_library(vms::openssl ALIAS vms_openssl)

# zlib 1.2 (zlib1g-dev): gzip of captures (`vmscope capture`) and of files opened for import.
find_package(ZLIB REQUIRED)
