# FPAUDIT_MPI = AUTO | ON | OFF. AUTO builds the MPI scale-out of `fpaudit audit` (lib/dist) when
# CMake finds an MPI for C++ (Debian: libopenmpi-dev); the binary still runs without a launcher,
# as a single rank.
set(FPAUDIT_HAVE_MPI OFF)
if(NOT FPAUDIT_MPI STREQUAL "OFF")
  find_package(MPI COMPONENTS CXX)
  if(MPI_CXX_FOUND)
    set(FPAUDIT_HAVE_MPI ON)
  elseif(FPAUDIT_MPI STREQUAL "ON")
    message(FATAL_ERROR "FPAUDIT_MPI=ON but no MPI for C++ was found (Debian: apt-get install libopenmpi-dev openmpi-bin)")
  endif()
endif()
message(STATUS "fpaudit: MPI ${FPAUDIT_HAVE_MPI}")
