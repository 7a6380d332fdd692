// The list SQL datasets and transforms share: each builds one table in a topic database.
import { t } from "../../i18n.js";
import { can } from "../../session.js";
import { fmt } from "./labels.js";

export const DerivedTableList = {
  name: "DerivedTableList",
  props: { rows: { type: Array, required: true } },
  emits: ["refresh", "edit"],
  setup() {
    return { t, fmt, can };
  },
  template: `
    <el-table :data="rows" stripe :empty-text="t('common.empty')">
      <el-table-column prop="title" :label="t('col.title')" min-width="140" />
      <el-table-column :label="t('col.target2')" min-width="140"><template #default="{ row }">{{ row.target_topic }}.{{ row.target_table }}</template></el-table-column>
      <el-table-column prop="row_count" :label="t('col.rows')" width="90" />
      <el-table-column :label="t('col.refreshed')" min-width="150" class-name="hide-mobile" label-class-name="hide-mobile"><template #default="{ row }">{{ fmt(row.refreshed_at) }}</template></el-table-column>
      <el-table-column :label="t('common.actions')" min-width="160"><template #default="{ row }">
        <el-button link type="primary" @click="$emit('refresh', row)">{{ t('col.refresh') }}</el-button>
        <el-button v-if="can('collect:manage')" link @click="$emit('edit', row)">{{ t('common.edit') }}</el-button>
      </template></el-table-column>
    </el-table>`,
};
