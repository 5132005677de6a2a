print("demo-app placeholder")
