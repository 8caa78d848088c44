#!/bin/sh
# fetch-samples.sh gives the demo real medical images on a machine without the
# shared data folder: Debian's python3-pydicom package ships real CT and MR
# DICOM test files. The package is downloaded and unpacked into a project-local
# folder, not installed. Prints the folder holding the images.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
dest=$root/.cache/samples
if [ -f "$dest/CT_small.dcm" ] && [ -f "$dest/MR_small.dcm" ]; then
	echo "$dest"
	exit 0
fi
work=$root/.cache/pydicom-deb
rm -rf "$work"
mkdir -p "$work" "$dest"
download() { (cd "$work" && apt-get download python3-pydicom >/dev/null 2>&1); }
if ! download; then
	# A fresh machine may have no package lists yet.
	sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq >/dev/null 2>&1 || true
	download || {
		echo "fetch-samples: apt-get download python3-pydicom failed" >&2
		exit 1
	}
fi
dpkg -x "$work"/python3-pydicom_*.deb "$work/x"
files=$(find "$work/x" -path '*pydicom/data/test_files/*' \( -name CT_small.dcm -o -name MR_small.dcm -o -name MR_small_bigendian.dcm -o -name JPEG2000.dcm \))
[ -n "$files" ] || { echo "fetch-samples: no test DICOMs in python3-pydicom" >&2; exit 1; }
cp $files "$dest/"
rm -rf "$work"
echo "$dest"
