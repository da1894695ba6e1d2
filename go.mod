module github.com/onecard-campus/onecard

go 1.26.8
