// The list SQL datasets and transforms share: each builds one table in a topic database.
import { t } from "../../i18n.js";
import { can } from "../../session.js";
import { fmt } from "./labels.js";

export const DerivedTableList = {
  name: "DerivedTableList",
  // running: {id: true} while a build runs; its row offers 取消 instead (the build stops, the old table stays)
  props: { rows: { type: Array, required: true }, running: { type: Object, default: () => ({}) } },
  emits: ["refresh", "edit", "cancel"],
  setup() {
    return { t, fmt, can };
  },
  template: `
    <el-table :data="rows" stripe :empty-text="t('common.empty')">
      <el-table-column prop="title" :label="t('col.title')" min-width="140" />
      <el-table-column :label="t('col.target2')" min-width="140"><template #default="{ row }">{{ row.target_label || row.target_table }}</template></el-table-column>
      <el-table-column prop="row_count" :label="t('col.rows')" width="90" />
      <el-table-column :label="t('col.refreshed')" min-width="150" class-name="hide-mobile" label-class-name="hide-mobile"><template #default="{ row }">{{ fmt(row.refreshed_at) }}</template></el-table-column>
      <el-table-column :label="t('common.actions')" min-width="160"><template #default="{ row }">
        <template v-if="running[row.id]">
          <span class="muted" data-test="derived-running">{{ t('col.building') }}</span>
          <el-button link type="danger" data-test="derived-cancel" @click="$emit('cancel', row)">{{ t('col.cancelRun') }}</el-button>
        </template>
        <el-button v-else link type="primary" data-test="derived-refresh" @click="$emit('refresh', row)">{{ t('col.refresh') }}</el-button>
        <el-button v-if="can('collect:manage')" link @click="$emit('edit', row)">{{ t('common.edit') }}</el-button>
      </template></el-table-column>
    </el-table>`,
};
