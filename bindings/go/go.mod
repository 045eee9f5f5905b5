module github.com/libdashmap/libdashmap/bindings/go

go 1.24
