# Every block is optional.
