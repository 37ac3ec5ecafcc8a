"""cxrdb diff: compare two release folders in the MIMIC-CXR-JPG layout and report the differences."""
