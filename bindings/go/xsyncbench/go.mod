module github.com/libdashmap/libdashmap/bindings/go/xsyncbench

go 1.24

require github.com/libdashmap/libdashmap/bindings/go v0.0.0

require github.com/puzpuzpuz/xsync/v4 v4.5.0

replace github.com/libdashmap/libdashmap/bindings/go => ../
