# Installing and packaging: `cmake --install build` puts the programs in bin, the man pages in
# share/man/man1 and the example settings in /etc/chat (for any prefix: Debian keeps settings
# in /etc); `cpack -G DEB` (run in the build folder) makes chat-suite_<version>_<arch>.deb,
# its library dependencies worked out by dpkg-shlibdeps. docs/operations.md, "Install".
include(GNUInstallDirs)

set(chat_programs chat-node chat-supervisor chat-tui)
if(CHAT_BUILD_TOOLS)
  list(APPEND chat_programs chat-bench chat-chaos chat-hostile)
endif()
install(TARGETS ${chat_programs} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES etc/chat-node.properties etc/cluster.ini etc/cluster-3.ini etc/tui.ini
        DESTINATION /etc/chat)
foreach(program ${chat_programs})
  install(FILES docs/man/${program}.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endforeach()
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
# The systemd template unit for one node per host (docs/deploy.md).
install(FILES etc/systemd/chat-node@.service DESTINATION /lib/systemd/system)

set(CPACK_PACKAGE_NAME chat-suite)
set(CPACK_PACKAGE_VENDOR "the chat suite")
set(CPACK_PACKAGE_CONTACT "chat suite maintainers <chat@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "terminal chat suite that stays up when its servers die (server, supervisor, client)")
set(CPACK_PACKAGE_DESCRIPTION
    "chat-node (a replicated chat server on SQLite), chat-supervisor (runs and watches a\n\
cluster), chat-tui (the full-screen client), chat-bench and chat-chaos.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "tmux, iproute2")
set(CPACK_GENERATOR DEB)
include(CPack)
