# huaweicloud plugin
