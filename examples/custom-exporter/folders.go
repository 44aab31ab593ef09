package main

import (
	"io/fs"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	bytesDesc = prometheus.NewDesc("dirsize_bytes", "Bytes in the regular files of a folder and its subfolders.", []string{"path"}, nil)
	filesDesc = prometheus.NewDesc("dirsize_files", "Regular files in a folder and its subfolders.", []string{"path"}, nil)
	errorDesc = prometheus.NewDesc("dirsize_errors", "Entries of a folder that could not be read.", []string{"path"}, nil)
)

// folders is a prometheus.Collector that walks its folders at every
// collection.
type folders struct{ paths []string }

// Describe implements prometheus.Collector.
func (f folders) Describe(ch chan<- *prometheus.Desc) {
	ch <- bytesDesc
	ch <- filesDesc
	ch <- errorDesc
}

// Collect implements prometheus.Collector.
func (f folders) Collect(ch chan<- prometheus.Metric) {
	for _, root := range f.paths {
		var size, files, errors float64
		filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
			if err != nil {
				errors++
				return nil
			}
			if d.Type().IsRegular() {
				if info, err := d.Info(); err == nil {
					size += float64(info.Size())
					files++
				}
			}
			return nil
		})
		ch <- prometheus.MustNewConstMetric(bytesDesc, prometheus.GaugeValue, size, root)
		ch <- prometheus.MustNewConstMetric(filesDesc, prometheus.GaugeValue, files, root)
		ch <- prometheus.MustNewConstMetric(errorDesc, prometheus.GaugeValue, errors, root)
	}
}
