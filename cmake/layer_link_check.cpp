// Empty on purpose: the layer link checks (cmake/FpauditLayers.cmake) are a layer's archive,
// whole, linked as a shared object; this file only gives the shared library a source.
