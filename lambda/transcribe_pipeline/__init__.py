"""Plain logic shared by the pipeline's functions: keys, job names, starting and harvesting jobs."""
