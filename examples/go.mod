module github.com/fnrun/fnrun/examples

go 1.26.0
