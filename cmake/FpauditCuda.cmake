# FPAUDIT_CUDA = AUTO | ON | OFF. AUTO enables CUDA when nvcc is found. The kernels are compiled
# for fixed architectures (never "native", which needs a GPU at build time) and link only the
# CUDA runtime, so the binaries start, and fall back, on machines without a GPU or driver.
set(FPAUDIT_HAVE_CUDA OFF)
if(NOT FPAUDIT_CUDA STREQUAL "OFF")
  if(NOT CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(CMAKE_CUDA_ARCHITECTURES "75;80;86;89;90" CACHE STRING "CUDA architectures")
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    # CMake 3.25 knows nvcc's dialect flags only up to C++17; nvcc 12+ takes -std=c++20, and
    # CUDA targets inherit CXX_STANDARD 20 from the project.
    if(NOT CMAKE_CUDA20_STANDARD_COMPILE_OPTION AND CMAKE_CUDA_COMPILER_VERSION VERSION_GREATER_EQUAL 12.0)
      set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
      set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
    endif()
    set(FPAUDIT_HAVE_CUDA ON)
    # The same list with commas, for compile definitions (a ';' would split them).
    string(REPLACE ";" "," FPAUDIT_CUDA_ARCHITECTURE_LIST "${CMAKE_CUDA_ARCHITECTURES}")
  elseif(FPAUDIT_CUDA STREQUAL "ON")
    message(FATAL_ERROR "FPAUDIT_CUDA=ON but no CUDA compiler (nvcc) was found")
  endif()
endif()
message(STATUS "fpaudit: CUDA kernels ${FPAUDIT_HAVE_CUDA}")
